/**
 * `npm run bench:working-set`: what one image costs in memory while the daemon processes it, by
 * format and size, beside what the admission estimate (server/memory/working-set.ts) says: the
 * calibration of that estimate (docs/benchmarks.md). Each image is processed by the daemon's
 * pipeline in a fresh child process with the start wrapper's glibc settings and the settings of
 * enable_memory_optimization (one libvips thread, no cache); the figure is the rise of the peak
 * RSS (VmHWM, reset through /proc/self/clear_refs) above the RSS just before, in MiB.
 *
 *   node dist/scripts/bench-working-set.js [--sizes 640x480,1920x1080,4056x3040,8000x6000] [--formats jpeg,png,webp,tiff,gif,avif]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { processImage } from '../server/pipeline/process-image';
import { tuneSharp } from '../server/pipeline/sharp-tuning';
import { estimateWorkingSetMb } from '../server/memory/working-set';
import { DEFAULT_SETTINGS } from '../server/settings';
import { GLIBC_TUNED } from './load/allocator';
import { describeMachine } from './load/machine';
import { cachedPhotoJpegs, WORKLOAD_CACHE } from './load/photo-jpeg';
import { formatTable } from './load/post-load';

const FORMATS = ['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif'] as const;
type Format = (typeof FORMATS)[number];
/** AVIF and GIF encode slowly here; past this many pixels they are left out. */
const SLOW_FORMAT_MAX_PIXELS = 13_000_000;

function statusKb(key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : NaN;
}

/** In the child: processes `file` twice (the first also loads its codec) and reports each rise. */
async function child(file: string): Promise<void> {
  tuneSharp(DEFAULT_SETTINGS);
  const dir = await mkdtemp(join(tmpdir(), 'pir-ws-'));
  try {
    // A small JPEG first, as any running daemon has processed one: libvips and its code are in.
    const warm = join(dir, 'warm.jpg');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).jpeg().toFile(warm);
    await processImage(warm, join(dir, 'warm.png'), DEFAULT_SETTINGS);
    const rises: number[] = [];
    for (let run = 0; run < 2; run++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = statusKb('VmRSS');
      // 5 resets the peak (VmHWM) to the RSS now.
      writeFileSync('/proc/self/clear_refs', '5');
      await processImage(file, join(dir, `out-${run}.png`), DEFAULT_SETTINGS);
      rises.push((statusKb('VmHWM') - before) / 1024);
    }
    process.stdout.write(`${JSON.stringify(rises)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The workload's photo-like JPEG of this size (EXIF 6: turned, the costlier case) in `format`. */
async function imageIn(format: Format, width: number, height: number): Promise<string> {
  const [jpeg] = await cachedPhotoJpegs(width, height, [6]);
  if (format === 'jpeg') return jpeg.file;
  const file = join(WORKLOAD_CACHE, `ws-${width}x${height}.${format}`);
  if (!existsSync(file)) {
    await mkdir(WORKLOAD_CACHE, { recursive: true });
    const image = sharp(jpeg.file).withMetadata({ orientation: 6 });
    const encoded = format === 'avif' ? image.avif({ effort: 0 }) : format === 'gif' ? image.gif() : image.toFormat(format);
    await encoded.toFile(`${file}.tmp`);
    await import('node:fs/promises').then(({ rename }) => rename(`${file}.tmp`, file));
  }
  return file;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      sizes: { type: 'string', default: '640x480,1920x1080,4056x3040,8000x6000' },
      formats: { type: 'string', default: FORMATS.join(',') },
    },
  });
  if (values.child) return child(values.child);
  const out = (text: string): boolean => process.stdout.write(`${text}\n`);
  out(`# One image's working set (MiB above the RSS before it), by format and size\n\n${describeMachine()}\n`);
  const rows: string[][] = [];
  for (const format of values.formats!.split(',') as Format[]) {
    for (const size of values.sizes!.split(',')) {
      const [width, height] = size.split('x').map(Number);
      if ((format === 'avif' || format === 'gif') && width * height > SLOW_FORMAT_MAX_PIXELS) continue;
      process.stderr.write(`${format} ${size}...\n`);
      const file = await imageIn(format, width, height);
      const result = spawnSync(process.execPath, [__filename, '--child', file], { env: { ...process.env, ...GLIBC_TUNED }, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${format} ${size}: ${result.stderr}`);
      const [first, second] = JSON.parse(result.stdout) as number[];
      const estimate = estimateWorkingSetMb({ format: format === 'avif' ? 'heif' : format, width, height }, DEFAULT_SETTINGS);
      rows.push([format, size, first.toFixed(1), second.toFixed(1), estimate.toFixed(1), (estimate / Math.max(first, second)).toFixed(2)]);
    }
  }
  out(formatTable(['format', 'size', 'first MiB', 'second MiB', 'estimate MiB', 'estimate/measured'], rows));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
