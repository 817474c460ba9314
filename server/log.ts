import { maskUrlPasswords } from './credentials';

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
  write?: (line: string, level: LogLevel) => void;
  /** Also called with every line written, after masking: feeds the in-memory ring of GET /logs. */
  tap?: (entry: { timestamp: string; level: LogLevel; message: string }) => void;
}

/** The longest message one log line keeps, in UTF-8 bytes; the rest is cut and counted. */
export const MAX_LOG_LINE_BYTES = 2048;

// Credentials named in a query, a header or a flag; their values are masked wherever a line quotes
// them (a path with its query, an error message).
const CREDENTIAL_PATTERN = /(access_token=|authorization:\s*(?:bearer\s+|basic\s+)?|token=|password=)[^\s&"']+/gi;

/**
 * Masks credentials by their shape alone: `token=`, `access_token=`, `password=`,
 * `Authorization:` values and the password of a URL (`mqtt://user:***@host`). Never by
 * comparing with the secrets themselves, so that a line quoting a right guess of a secret reads
 * exactly as one quoting a wrong guess.
 */
export function redact(line: string): string {
  return maskUrlPasswords(line.replace(CREDENTIAL_PATTERN, '$1***'), '***');
}

/**
 * `message` cut to {@link MAX_LOG_LINE_BYTES} (on a character boundary) with a note of how much
 * was cut, so that no client can make a line, or the ring of GET /logs, grow with what it sends.
 */
export function boundLine(message: string): string {
  const total = Buffer.byteLength(message);
  if (total <= MAX_LOG_LINE_BYTES) return message;
  const head = Buffer.from(message.slice(0, MAX_LOG_LINE_BYTES));
  let end = MAX_LOG_LINE_BYTES;
  // Back off to the first byte of a character, so that none is cut in half.
  while (end > 0 && (head[end] & 0xc0) === 0x80) end--;
  return `${head.subarray(0, end).toString('utf8')}…(${total - end} more bytes)`;
}

/** True when `value` names a log level (error, warn, info, debug). */
export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVELS, value);
}

/**
 * Lines for a stream written synchronously (stdout: a pipe, a terminal or journald's socket), sent
 * in one write per turn of the event loop: every write wakes the reader, 160 µs of the daemon's
 * time a write on the build VM. An upload logs its request once its handler is done and "stored"
 * in the turn's next phase; they now leave together, after its answer. {@link flush} writes what
 * is pending at once: before an error, and at exit.
 */
export class LineBatch {
  private pending = '';
  private scheduled = false;

  constructor(private readonly out: { write(text: string): unknown }) {}

  /** Adds `line`, written at the end of this turn. */
  add(line: string): void {
    this.pending += `${line}\n`;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Writes every pending line now; the turn's own flush then finds less or nothing to write. */
  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.out.write(text);
  }
}

/** The daemon's stdout, one write per turn; main.ts flushes it at exit. */
export const stdoutLines = new LineBatch({ write: (text) => process.stdout.write(text) });

/** A logger's `write` into `batch`: an error line goes at once, with those before it. */
export function batchedWrite(batch: LineBatch): (line: string, level: LogLevel) => void {
  return (line, level) => {
    batch.add(line);
    if (level === 'error') batch.flush();
  };
}

/**
 * A line-per-event logger; lines below `level` are dropped before they are formatted, and every
 * line is redacted, so no caller can leak a token by mistake. Lines go to {@link stdoutLines}
 * unless `write` is given.
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? batchedWrite(stdoutLines);
  const threshold = LEVELS[options.level];
  const at = (level: LogLevel) => (message: string): void => {
    if (LEVELS[level] > threshold) return;
    // Masked whole before the cut, so that the cut can never leave half a password unmasked.
    const text = boundLine(redact(message));
    const timestamp = new Date().toISOString();
    options.tap?.({ timestamp, level, message: text });
    // journald makes one entry per line: each line of a stack trace keeps its priority.
    write(options.journald
      ? text.split('\n').map((line) => `<${LEVELS[level]}>${line}`).join('\n')
      : `${timestamp} ${level.toUpperCase()} ${text}`, level);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** A logger that drops everything, for tests. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
