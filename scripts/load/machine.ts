import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import sharp from 'sharp';

/** The machine and software a run measured, as lines for a report. */
export function describeMachine(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  // x86 names the CPU in "model name", a Raspberry Pi in "Model" (the board).
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? /^Model\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const { sharp: sharpVersion, vips } = sharp.versions;
  return [
    `machine: ${availableParallelism()} cores (nproc), ${model}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `software: Node ${process.version}, sharp ${sharpVersion}, libvips ${vips}`,
    // Other work on the machine skews every figure; a quiet machine reads near 0.
    `run: ${new Date().toISOString()}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  ].join('\n');
}

/**
 * Microseconds per first touch of a fresh anonymous page, the best of 5 passes over 64 MiB: what
 * an allocator that hands memory back to the kernel at once (the start wrapper's glibc settings)
 * pays again for each page of each buffer. 64 MiB is above glibc's highest mmap threshold, so the
 * array is always freshly mapped, and zeroed by the kernel as each page is touched. Some virtual
 * machines make this many times dearer than a board does, as the host backs each page anew.
 */
export function pageFaultMicros(): number {
  const bytes = 64 * 2 ** 20;
  const page = 4096;
  let best = Infinity;
  for (let pass = 0; pass < 5; pass++) {
    const fresh = new Uint8Array(bytes);
    const started = process.hrtime.bigint();
    for (let i = 0; i < bytes; i += page) fresh[i] = 1;
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1000 / (bytes / page));
  }
  return best;
}
