import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../settings';

/** What bounds this process's memory, as read at start; bytes, absent when unbounded. */
export interface SystemMemory {
  /** The cgroup's soft limit: memory.high (v2), or memory.soft_limit_in_bytes (v1). */
  cgroupHigh?: number;
  /** The cgroup's hard limit: memory.max (v2), or memory.limit_in_bytes (v1). */
  cgroupMax?: number;
  /** MemAvailable from /proc/meminfo. */
  memAvailable?: number;
}

/** A memory budget in MiB and where it came from, for the log and /memory_status. */
export interface MemoryBudget {
  mb: number;
  origin: string;
}

/**
 * What a started worker holds of its own before its first image, in MiB: Node's, sharp's and
 * libvips' private memory (RssAnon: 14.3-14.4 MiB on x86-64, measured once a small image was
 * processed). The admission counts it while no worker runs, since the next image starts one.
 */
export const WORKER_START_MB = 15;

/**
 * The daemon at rest with its image worker started, in MiB: 65-75 MB idle
 * (docs/raspberry-pi.md, "How the service is run") plus the worker's {@link WORKER_START_MB}. Every image and frame is processed
 * beside it, so one whose estimate does not fit in the budget beside it is refused.
 */
export const DAEMON_AT_REST_MB = 75 + WORKER_START_MB;

/** The share of MemAvailable at start taken as the budget when no cgroup limit is set. */
export const MEM_AVAILABLE_SHARE = 0.5;

const MIB = 1024 * 1024;
/** cgroup v1 writes "no limit" as a number near 2^63. */
const UNLIMITED = 2 ** 60;
/** Used when nothing can be read (no /proc): one 12 MP JPEG above an idle daemon. */
const FALLBACK_MB = 128;

/**
 * The budget memory_budget_mb = 0 stands for: the cgroup's memory.high (the unit's MemoryHigh=256M),
 * else its memory.max, else {@link MEM_AVAILABLE_SHARE} of the memory available at start, so that
 * the rest of a Pi is left to the rest of the system.
 */
export function automaticBudget(system: SystemMemory): MemoryBudget {
  if (system.cgroupHigh) return { mb: Math.floor(system.cgroupHigh / MIB), origin: 'cgroup memory.high' };
  if (system.cgroupMax) return { mb: Math.floor(system.cgroupMax / MIB), origin: 'cgroup memory.max' };
  if (system.memAvailable) return { mb: Math.floor((MEM_AVAILABLE_SHARE * system.memAvailable) / MIB), origin: `${100 * MEM_AVAILABLE_SHARE}% of MemAvailable at start` };
  return { mb: FALLBACK_MB, origin: 'fallback (no /proc/meminfo)' };
}

/**
 * The budget in force: null when enable_memory_optimization is off (one image per core, as
 * before the budget existed), else memory_budget_mb, or the automatic budget when it is 0.
 */
export function memoryBudget(settings: Pick<Settings, 'enable_memory_optimization' | 'memory_budget_mb'>, automatic: MemoryBudget): MemoryBudget | null {
  if (!settings.enable_memory_optimization) return null;
  return settings.memory_budget_mb > 0 ? { mb: settings.memory_budget_mb, origin: 'memory_budget_mb' } : automatic;
}

/** Reads the limits of this process's cgroup (v2, or v1's memory controller) and MemAvailable. */
export function readSystemMemory(root = '/'): SystemMemory {
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(join(root, path), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const limit = (path: string): number | undefined => {
    const value = Number(read(path));
    return Number.isFinite(value) && value > 0 && value < UNLIMITED ? value : undefined;
  };
  const system: SystemMemory = {};
  const cgroups = read('proc/self/cgroup')?.split('\n') ?? [];
  const v2 = cgroups.find((line) => line.startsWith('0::'))?.slice(3);
  const v1 = cgroups.map((line) => line.split(':')).find(([, controllers]) => controllers?.split(',').includes('memory'))?.[2];
  if (v2 !== undefined && read('sys/fs/cgroup/cgroup.controllers') !== undefined) {
    // "max" reads as NaN: no limit.
    system.cgroupHigh = limit(join('sys/fs/cgroup', v2, 'memory.high'));
    system.cgroupMax = limit(join('sys/fs/cgroup', v2, 'memory.max'));
  } else if (v1 !== undefined) {
    system.cgroupHigh = limit(join('sys/fs/cgroup/memory', v1, 'memory.soft_limit_in_bytes'));
    system.cgroupMax = limit(join('sys/fs/cgroup/memory', v1, 'memory.limit_in_bytes'));
  }
  const available = /^MemAvailable:\s+(\d+) kB/m.exec(read('proc/meminfo') ?? '');
  if (available) system.memAvailable = Number(available[1]) * 1024;
  return system;
}
