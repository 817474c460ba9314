import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/**
 * The "Key:   1234 kB" lines of a /proc file, in bytes; empty where the file does not exist
 * (not Linux), so that callers fall back to portable figures. The read is synchronous on purpose:
 * the kernel makes these files in memory, and one sync read (about 20 µs) costs a fraction of
 * the four thread-pool round trips of an async readFile, once a second for the daemon's life.
 */
export function readProcFields(path: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return {};
  }
  const fields: Record<string, number> = {};
  for (const match of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) fields[match[1]] = Number(match[2]) * 1024;
  return fields;
}

/** AT_PAGESZ, the auxiliary vector's entry for the kernel's page size. */
const AT_PAGESZ = 6;

/**
 * The kernel's page size in bytes, from this process's auxiliary vector (AT_PAGESZ): 4 KiB on
 * most kernels, 16 KiB on a Raspberry Pi 5's. Undefined where /proc/self/auxv cannot be read.
 */
export function readPageSize(): number | undefined {
  let auxv: Buffer;
  try {
    auxv = readFileSync('/proc/self/auxv');
  } catch {
    return undefined;
  }
  // Pairs of unsigned longs (type, value): 4 bytes each on armv7, 8 on arm64 and x64.
  const word = ['arm', 'ia32'].includes(process.arch) ? 4 : 8;
  const read = (at: number): number => (word === 4 ? auxv.readUInt32LE(at) : Number(auxv.readBigUInt64LE(at)));
  for (let at = 0; at + 2 * word <= auxv.length; at += 2 * word) {
    if (read(at) === AT_PAGESZ) return read(at + word);
  }
  return undefined;
}

let pageSize: number | null | undefined;

/**
 * Reads a process's memory from /proc/PID/statm, kept open: its resident pages, and its private
 * ones (anonymous, RssAnon in /proc/PID/status), which are resident minus shared pages exactly.
 * One pread of a short line, some 3 µs against 50 µs for opening and parsing status: the memory
 * admission reads the daemon's and the image worker's before every image (processing-queue.ts).
 */
export class ProcessMemory {
  private fd: number | undefined;
  private readonly line = Buffer.alloc(128);

  /** Opens /proc/`pid`/statm; every read returns undefined where it cannot be opened (not Linux). */
  constructor(pid: number) {
    pageSize ??= readPageSize() ?? null;
    if (pageSize === null) return;
    try {
      this.fd = openSync(`/proc/${pid}/statm`, 'r');
    } catch {
      this.fd = undefined;
    }
  }

  /** The private memory in bytes now; undefined when it cannot be read (the process is gone). */
  privateBytes(): number | undefined {
    const pages = this.pages();
    return pages && pages.resident - pages.shared;
  }

  /** The resident memory (RSS) in bytes now, as process.memoryUsage.rss() reads it; undefined when it cannot be read. */
  residentBytes(): number | undefined {
    return this.pages()?.resident;
  }

  /** Resident and shared memory now, in bytes. */
  private pages(): { resident: number; shared: number } | undefined {
    if (this.fd === undefined || !pageSize) return undefined;
    let length: number;
    try {
      length = readSync(this.fd, this.line, 0, this.line.length, 0);
    } catch {
      return undefined;
    }
    // size resident shared text lib data dt, in pages.
    const [, resident, shared] = this.line.toString('latin1', 0, length).split(' ').map(Number);
    return Number.isFinite(resident - shared) ? { resident: resident * pageSize, shared: shared * pageSize } : undefined;
  }

  /** Closes the file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

let own: ProcessMemory | undefined;

/** This process's RSS in bytes, as process.memoryUsage.rss() reads it, from its statm kept open rather than its stat opened each time. */
export function ownResidentBytes(): number {
  return (own ??= new ProcessMemory(process.pid)).residentBytes() ?? process.memoryUsage.rss();
}
