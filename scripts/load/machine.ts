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
