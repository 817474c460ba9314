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
  write?: (line: string) => void;
}

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVELS, value);
}

/** A line-per-event logger; lines below `level` are dropped before they are formatted. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const threshold = LEVELS[options.level];
  const at = (level: LogLevel) => (message: string): void => {
    if (LEVELS[level] > threshold) return;
    write(options.journald ? `<${LEVELS[level]}>${message}` : `${new Date().toISOString()} ${level.toUpperCase()} ${message}`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** A logger that drops everything, for tests. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
