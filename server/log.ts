/** Log levels, most severe first, with their syslog priorities for journald. */
const LEVELS = { error: 3, warn: 4, info: 6, debug: 7 } as const;

export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export interface LoggerOptions {
  level: LogLevel;
  /**
   * Prefix lines with `<N>` syslog priorities and no timestamp, for journald, which adds its own
   * timestamp and reads the priority; otherwise lines carry an ISO timestamp and the level name.
   */
  journald: boolean;
  /** Values that must never reach the log, such as API_TOKEN; each is replaced with `***`. */
  secrets?: readonly string[];
  write?: (line: string) => void;
  /** Also called with every line written, after masking: feeds the in-memory ring of GET /logs. */
  tap?: (entry: { timestamp: string; level: LogLevel; message: string }) => void;
}

// Credentials that may be named in a URL or header by a client; their values are masked wherever
// a line quotes them (a path with its query, an error message).
const CREDENTIAL_PATTERN = /(access_token=|authorization:\s*(?:bearer\s+)?|token=)[^\s&"']+/gi;

/** Masks every known secret and every credential-looking value in a line. */
export function redact(line: string, secrets: readonly string[] = []): string {
  let clean = line.replace(CREDENTIAL_PATTERN, '$1***');
  for (const secret of secrets) if (secret) clean = clean.split(secret).join('***');
  return clean;
}

/** True when `value` names a log level (error, warn, info, debug). */
export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVELS, value);
}

/**
 * A line-per-event logger; lines below `level` are dropped before they are formatted, and every
 * line is redacted, so no caller can leak a token by mistake.
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const threshold = LEVELS[options.level];
  const at = (level: LogLevel) => (message: string): void => {
    if (LEVELS[level] > threshold) return;
    const text = redact(message, options.secrets);
    const timestamp = new Date().toISOString();
    options.tap?.({ timestamp, level, message: text });
    // journald makes one entry per line: each line of a stack trace keeps its priority.
    write(options.journald
      ? text.split('\n').map((line) => `<${LEVELS[level]}>${line}`).join('\n')
      : `${timestamp} ${level.toUpperCase()} ${text}`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** A logger that drops everything, for tests. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
