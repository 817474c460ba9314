import { readdirSync, readFileSync } from 'node:fs';

/**
 * One memory figure of process `pid` in MiB from /proc/<pid>/status: VmRSS (all resident pages),
 * RssAnon (private memory: V8 heap, malloc) or RssFile (pages of mapped files: the node binary,
 * libvips; shared with other processes, and dropped by the kernel first when memory runs short).
 */
export function readStatusMb(pid: number, key: 'VmRSS' | 'RssAnon' | 'RssFile'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${key} for process ${pid}`);
  return Number(match[1]) / 1024;
}

/**
 * The memory of the daemon `pid` and its workers (the image worker, the compare worker), in MiB:
 * the daemon's resident set (VmRSS) plus each worker's private memory (RssAnon). A worker's file
 * pages are the same files' as the daemon's (node, libvips), which a cgroup's memory.high, the
 * unit's budget, counts once; adding its whole VmRSS would count them twice.
 */
export function readRssMb(pid: number): number {
  let mb = readStatusMb(pid, 'VmRSS');
  for (const child of descendants(pid)) {
    try {
      mb += readStatusMb(child, 'RssAnon');
    } catch {
      // The worker exited since it was listed: it holds nothing now.
    }
  }
  return mb;
}

/** The live descendants of process `pid`, from each of its threads' children lists. */
export function descendants(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children = tasks.flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/**
 * Samples a process's RSS at a fixed interval and keeps the peak. Reading /proc is cheap and,
 * unlike ps or pidusage, sees the kernel's own figure; 50 ms catches the peak of a single image.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peakMb = 0;
  private lastMb = 0;
  private count = 0;

  constructor(private readonly pid: number, private readonly intervalMs = 50) {}

  /** Starts (or restarts) sampling with a fresh peak. */
  start(): void {
    this.stop();
    this.peakMb = 0;
    this.count = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Stops sampling; the figures stay readable. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The highest RSS seen since {@link RssSampler.start}, in MiB. */
  get peak(): number {
    return this.peakMb;
  }

  /** The latest sample, in MiB. */
  get last(): number {
    return this.lastMb;
  }

  /** How many samples were taken since {@link RssSampler.start}. */
  get samples(): number {
    return this.count;
  }

  private sample(): void {
    try {
      this.lastMb = readRssMb(this.pid);
    } catch {
      // The process has exited; its last figures stand.
      this.stop();
      return;
    }
    this.count++;
    this.peakMb = Math.max(this.peakMb, this.lastMb);
  }
}

export interface SettleOptions {
  /** Wait at least this long: V8 shrinks an idle heap some 8 s after the last burst of work. */
  minMs: number;
  /** Then stop once RSS has made no new low for this long. */
  quietMs: number;
  /** Never wait longer than this. */
  maxMs: number;
}

const SETTLE: SettleOptions = { minMs: 12_000, quietMs: 3000, maxMs: 30_000 };

/**
 * Waits until RSS stops falling and returns the lowest RSS seen, in MiB: what the process holds
 * at rest, once V8 and the allocator have given back what they will.
 */
export async function settledRss(pid: number, options: SettleOptions = SETTLE): Promise<number> {
  const started = Date.now();
  let lowest = readRssMb(pid);
  let lowestAt = started;
  for (;;) {
    const now = Date.now();
    const quiet = now - started >= options.minMs && now - lowestAt >= options.quietMs;
    if (quiet || now - started >= options.maxMs) return lowest;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rss = readRssMb(pid);
    if (rss < lowest - 0.25) lowestAt = Date.now();
    lowest = Math.min(lowest, rss);
  }
}

/**
 * Waits until the daemon `pid` has no worker left, at most `maxMs`: the image worker ends
 * image_worker_idle_seconds after the last image, and its exit gives back what it held.
 * @returns how long it waited, in ms.
 */
export async function workersEnded(pid: number, maxMs: number): Promise<number> {
  const started = Date.now();
  while (descendants(pid).length > 0 && Date.now() - started < maxMs) await new Promise((resolve) => setTimeout(resolve, 250));
  return Date.now() - started;
}

/** The fields of /proc/<pid>/stat after the command name, which is in parentheses and may hold spaces. */
function readStatFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU time (user + system) process `pid` has used so far, in seconds, from /proc/<pid>/stat.
 * Unlike wall-clock time it hardly moves when other processes compete for the cores. With
 * `workers`, the daemon's workers' too: those that ended and those that run.
 */
export function readCpuSeconds(pid: number, workers = false): number {
  // utime and stime are fields 14 and 15 of the line, cutime and cstime (children that ended) 16
  // and 17, in USER_HZ ticks: 100 per second on Linux.
  const ticks = (fields: string[], ended: boolean) => Number(fields[11]) + Number(fields[12]) + (ended ? Number(fields[13]) + Number(fields[14]) : 0);
  return (ticks(readStatFields(pid), workers) + (workers ? sumOverWorkers(pid, (fields) => ticks(fields, false)) : 0)) / 100;
}

/**
 * Minor page faults process `pid` has taken so far (field 10 of /proc/<pid>/stat): each first
 * touch of a fresh page, which is what an allocator that returns memory at once pays again. With
 * `workers`, the daemon's workers' too (field 11 holds those of children that ended).
 */
export function readMinorFaults(pid: number, workers = false): number {
  const fields = readStatFields(pid);
  if (!workers) return Number(fields[7]);
  return Number(fields[7]) + Number(fields[8]) + sumOverWorkers(pid, (child) => Number(child[7]));
}

function sumOverWorkers(pid: number, figure: (fields: string[]) => number): number {
  let sum = 0;
  for (const child of descendants(pid)) {
    try {
      sum += figure(readStatFields(child));
    } catch {
      // Ended since it was listed: its figures are now in the parent's fields for ended children.
    }
  }
  return sum;
}
