import { readProcFields } from '../proc-fields';
import { freemem, loadavg, totalmem } from 'node:os';
import pidusage from 'pidusage';

/** The daemon's own memory and CPU, as the kernel and V8 report them. */
export interface ProcessStats {
  /** Resident set size in bytes (VmRSS). */
  rss_bytes: number;
  /** Virtual memory size in bytes (VmSize); null where /proc is missing. */
  vms_bytes: number | null;
  heap_used_bytes: number;
  heap_total_bytes: number;
  /** Memory of C++ objects bound to JS objects, libvips buffers handed to JS among them. */
  external_bytes: number;
  array_buffers_bytes: number;
  /** CPU use since the previous reading, in percent of one core (may exceed 100 on several cores). */
  cpu_percent: number;
}

/** The machine's memory and load, to judge the daemon's figures against. */
export interface SystemStats {
  total_memory_bytes: number;
  /** MemAvailable: what can be allocated without swapping, which is what an operator means by free. */
  available_memory_bytes: number;
  /** 1, 5 and 15 minute load averages. */
  load_average: [number, number, number];
}

/**
 * Reads the process's memory from /proc/self/status and V8, and its CPU from pidusage.
 * RSS and VMS come from the kernel, not V8, because libvips allocates outside the JS heap.
 */
export async function readProcessStats(): Promise<ProcessStats> {
  const usage = await pidusage(process.pid);
  const status = readProcFields('/proc/self/status');
  const memory = process.memoryUsage();
  return {
    rss_bytes: status.VmRSS ?? memory.rss,
    vms_bytes: status.VmSize ?? null,
    heap_used_bytes: memory.heapUsed,
    heap_total_bytes: memory.heapTotal,
    external_bytes: memory.external,
    array_buffers_bytes: memory.arrayBuffers,
    cpu_percent: round(usage.cpu, 1),
  };
}

/** Reads the machine's total and available memory and its load average. */
export function readSystemStats(): SystemStats {
  const meminfo = readProcFields('/proc/meminfo');
  const [one, five, fifteen] = loadavg();
  return {
    total_memory_bytes: totalmem(),
    available_memory_bytes: meminfo.MemAvailable ?? freemem(),
    load_average: [round(one, 2), round(five, 2), round(fifteen, 2)],
  };
}

/** Forgets pidusage's open /proc file and history, so a stopped daemon leaves nothing behind. */
export function releaseProcessStats(): void {
  pidusage.clear();
}


/** Rounds to `digits` decimals, for figures that are read by people. */
export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
