import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The limits of the systemd unit, as a memory cgroup holds them. */
export interface MemoryLimits {
  /** MemoryMax=: past it the kernel kills. */
  maxBytes: number;
  /** MemoryHigh=: the kernel reclaims above it; the daemon takes it as its memory budget. */
  highBytes: number;
}

/** A memory cgroup of the test's own, v2 or v1, that programs are started inside. */
export interface MemoryCgroup {
  version: 'v1' | 'v2';
  dir: string;
  /**
   * The argv that starts `program` inside the cgroup: a shell joins it, then execs the program,
   * so the process keeps the shell's PID and allocates nothing outside the cgroup.
   */
  wrap(program: readonly string[]): string[];
  /** Processes the kernel's OOM killer has killed in the cgroup so far. */
  oomKills(): number;
  /** The most memory the cgroup has held, in bytes, where the kernel says (v1; v2 from 5.19). */
  peakBytes(): number | undefined;
  /** Removes the cgroup once its processes are gone (waits up to 5 s for them). */
  remove(): Promise<void>;
}

const ROOT = '/sys/fs/cgroup';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A counter of a flat-keyed cgroup file (memory.events, memory.oom_control): `oom_kill 0`. */
function counter(path: string, key: string): number {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(read(path) ?? '');
  if (!match) throw new Error(`${path} has no ${key}`);
  return Number(match[1]);
}

/**
 * Creates a memory cgroup `name` at the top of the hierarchy with the unit's limits and swap
 * held to zero, so that swap cannot hide what would be an OOM kill on a Pi without it: cgroup v2
 * where the root offers the memory controller to its children, else v1's memory controller.
 * Returns why not (a reason to skip) when neither can be made: not root, no memory controller,
 * or a container whose cgroups are read-only.
 */
export async function createMemoryCgroup(name: string, limits: MemoryLimits): Promise<MemoryCgroup | string> {
  if (process.getuid?.() !== 0) return 'needs root to create a memory cgroup';
  const v2 = (read(join(ROOT, 'cgroup.subtree_control')) ?? '').split(/\s+/).includes('memory');
  const v1Root = join(ROOT, 'memory');
  if (!v2 && !existsSync(join(v1Root, 'memory.limit_in_bytes'))) {
    return 'no writable memory cgroup: neither cgroup v2 with the memory controller enabled at the root nor v1\'s memory controller';
  }
  const dir = join(v2 ? ROOT : v1Root, name);
  const limit = (file: string, value: number): Promise<void> => writeFile(join(dir, file), String(value));
  try {
    await mkdir(dir);
  } catch (err) {
    return `cannot create ${dir}: ${(err as Error).message}`;
  }
  try {
    if (v2) {
      await limit('memory.max', limits.maxBytes);
      await limit('memory.high', limits.highBytes);
      if (existsSync(join(dir, 'memory.swap.max'))) await limit('memory.swap.max', 0);
    } else {
      await limit('memory.limit_in_bytes', limits.maxBytes);
      // memory + swap, no more than memory alone; absent when the kernel does not account swap.
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) await limit('memory.memsw.limit_in_bytes', limits.maxBytes);
      await limit('memory.soft_limit_in_bytes', limits.highBytes);
    }
  } catch (err) {
    await rmdir(dir).catch(() => undefined);
    return `cannot set the limits of ${dir}: ${(err as Error).message}`;
  }
  return {
    version: v2 ? 'v2' : 'v1',
    dir,
    wrap: (program) => ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...program],
    oomKills: () => (v2 ? counter(join(dir, 'memory.events'), 'oom_kill') : counter(join(dir, 'memory.oom_control'), 'oom_kill')),
    peakBytes() {
      const text = read(join(dir, v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
      return text === undefined ? undefined : Number(text.trim());
    },
    async remove() {
      // The daemon's worker processes may still be exiting: a cgroup with processes cannot go.
      for (let i = 0; i < 50 && (read(join(dir, 'cgroup.procs')) ?? '').trim() !== ''; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await rmdir(dir);
    },
  };
}
