import { EventEmitter } from 'node:events';

/** One logged line as GET /logs shows it; the message is already masked by the logger. */
export interface LogEntry {
  timestamp: string;
  level: string;
  message: string;
}

/** Lines kept for GET /logs, as the original offered: the newest 1000. */
export const LOG_RING_SIZE = 1000;

/**
 * The newest log lines in memory, for GET /logs and its live stream: a fixed-size ring, so the
 * log costs the same memory after a year as after a minute. The logger feeds it after masking,
 * so it never holds a secret the journal would not. Emits 'line' for each new entry.
 */
export class LogRing extends EventEmitter<{ line: [LogEntry] }> {
  private readonly slots: (LogEntry | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity = LOG_RING_SIZE) {
    super();
    this.slots = new Array<LogEntry | undefined>(capacity);
  }

  /** Lines held now (at most the capacity). */
  get size(): number {
    return this.count;
  }

  push(entry: LogEntry): void {
    this.slots[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    this.emit('line', entry);
  }

  /** The newest `limit` lines, oldest first. */
  newest(limit: number): LogEntry[] {
    const n = Math.max(0, Math.min(limit, this.count));
    const out: LogEntry[] = [];
    for (let i = n; i > 0; i--) out.push(this.slots[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }
}
