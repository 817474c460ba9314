/**
 * `npm run bench:frame-memory`: what rendering one display frame adds to the daemon's RSS, by
 * panel size and by the size of the stored image it is made from, beside what the estimate
 * (server/display/frame-memory.ts) says: the calibration of that estimate, and of the largest panel
 * allowed. Each frame is rendered in a fresh child process (scripts/load/frame-render.ts) with the
 * start wrapper's glibc settings, one libvips thread and no cache, as the daemon renders it; the
 * figure is the rise of the peak RSS (VmHWM) above the RSS just before, in MiB.
 *
 *   node dist/scripts/bench-frame-memory.js [--panels 800x480,1600x1200,2560x1440,4096x2160,4096x4096,8192x8192] [--sources 2000x1500,8000x6000]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { frameWorkingSetMb } from '../server/display/frame-memory';
import { GLIBC_TUNED } from './load/allocator';
import { describeMachine } from './load/machine';
import { cachedPhotoJpegs, WORKLOAD_CACHE } from './load/photo-jpeg';
import { formatTable } from './load/post-load';

/** A stored image as the daemon keeps it: a PNG of the workload's photo-like pixels. */
async function storedPng(width: number, height: number): Promise<string> {
  const file = join(WORKLOAD_CACHE, `stored-${width}x${height}.png`);
  if (!existsSync(file)) {
    const [jpeg] = await cachedPhotoJpegs(width, height, [1]);
    await mkdir(WORKLOAD_CACHE, { recursive: true });
    await sharp(jpeg.file).png().toFile(`${file}.tmp`);
    await rename(`${file}.tmp`, file);
  }
  return file;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      panels: { type: 'string', default: '800x480,1600x1200,2560x1440,4096x2160,4096x4096,8192x8192' },
      sources: { type: 'string', default: '2000x1500,8000x6000' },
    },
  });
  const out = (text: string): boolean => process.stdout.write(`${text}\n`);
  out(`# One display frame's working set (MiB above the RSS before it), by panel and stored image\n\n${describeMachine()}\n`);
  const rows: string[][] = [];
  for (const sourceSize of values.sources!.split(',')) {
    const [sw, sh] = sourceSize.split('x').map(Number);
    const source = await storedPng(sw, sh);
    for (const panel of values.panels!.split(',')) {
      process.stderr.write(`${panel} from ${sourceSize}...\n`);
      const [width, height] = panel.split('x').map(Number);
      const run = (): { addedMb: number } => JSON.parse(execFileSync(process.execPath,
        ['--expose-gc', join(__dirname, 'load', 'frame-render.js'), source, '1', 'one', panel], { encoding: 'utf8', env: { ...process.env, ...GLIBC_TUNED } })) as { addedMb: number };
      // Each in a fresh process, twice: the larger counts.
      const added = Math.max(run().addedMb, run().addedMb);
      const estimate = frameWorkingSetMb({ width, height }, { width: sw, height: sh });
      rows.push([panel, sourceSize, added.toFixed(1), estimate.toFixed(1), (estimate / added).toFixed(2)]);
    }
  }
  out(formatTable(['panel', 'stored image', 'added MiB', 'estimate MiB', 'estimate/measured'], rows));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
