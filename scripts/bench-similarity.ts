/**
 * npm run bench:similarity -- [--scenes 30] [--skip-rss] [--only-index]
 *
 * Measures similarity: the index search over 100,000 signatures, search by content over 10,000
 * embeddings (--only-index: these two alone), the accuracy of the perceptual hash for near-duplicates and of local features (ORB) for "same object", on a labelled set of
 * pairs built from generated scenes, their times, and the daemon's idle RSS before the compare
 * worker is first used and after it has ended. Prints figures; asserts nothing.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { EMBEDDING_DIMENSIONS, EmbeddingIndex } from '../server/labels/embedding-index';
import { FeatureMatcher } from '../server/similarity/feature-matcher';
import { SimilarityIndex } from '../server/similarity/index';
import { computeSignature, hammingDistance } from '../server/similarity/signature';
import { startDaemon } from '../test/helpers/daemon-process';
import { seededPrng } from '../test/helpers/prng';
import { CHANGED_VIEW_VARIANTS, NEAR_DUPLICATE_VARIANTS, scene, variantOf, type Variant } from '../test/helpers/scenes';
import { describeMachine } from './load/machine';

/** The duplicate_max_distance docs/similarity.md recommends. */
const RECOMMENDED_DISTANCE = 8;

interface Pair { a: string; b: string; kind: 'near_duplicate' | 'changed_view' | 'unrelated'; variant: Variant | 'unrelated'; distance: number }

const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const ms = (value: number): string => `${value.toFixed(2)} ms`;

function benchIndex(): void {
  const rng = seededPrng(11);
  const index = new SimilarityIndex();
  const hex = (): string => Array.from({ length: 16 }, () => Math.floor(rng.next() * 16).toString(16)).join('');
  for (let i = 0; i < 100_000; i++) index.add(`20260101T000000000-${i.toString(36).padStart(4, '0')}-0000`, hex());
  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let q = 0; q < 200; q++) {
    const query = hex();
    const started = performance.now();
    index.search({ phash: query, limit: 10 });
    times.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const steady = times.slice(20);
  const p99 = [...steady].sort((x, y) => x - y)[Math.floor(steady.length * 0.99)];
  console.log(`index: 100,000 signatures, ${(index.bytes / index.size).toFixed(1)} bytes per image (hashes + id references + growth tail)`);
  console.log(`index search top 10: median ${ms(median(steady))}, p99 ${ms(p99)}, max ${ms(Math.max(...steady))}, first (cold) ${ms(times[0])}`);
  // CPU time leaves out the time the scheduler gave other processes (the wall-clock tail on a busy machine).
  console.log(`index search CPU time: ${ms((cpu.user + cpu.system) / 1000 / times.length)} per search (mean of ${times.length})`);
}

/**
 * Search by content over 10,000 embeddings: the files written as the labels consumer writes them
 * (without its fsync, to build the set quickly), the index opened from them as at a start, then
 * 200 searches for the top 10.
 */
async function benchContentIndex(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-content-'));
  try {
    const rng = seededPrng(12);
    const count = 10_000;
    await mkdir(join(dataDir, 'embeddings'));
    for (let i = 0; i < count; i++) {
      const bytes = Buffer.alloc(4 + EMBEDDING_DIMENSIONS);
      bytes.writeFloatLE(1 / 127 / 8, 0);
      for (let d = 0; d < EMBEDDING_DIMENSIONS; d++) bytes.writeInt8(Math.floor(rng.next() * 128), 4 + d);
      await writeFile(join(dataDir, 'embeddings', `20260101T000000000-${i.toString(36).padStart(4, '0')}-0000.bin`), bytes);
    }
    let started = performance.now();
    const index = EmbeddingIndex.open(dataDir);
    await index.loaded();
    const openMs = performance.now() - started;
    const times: number[] = [];
    for (let q = 0; q < 200; q++) {
      const query = Float32Array.from({ length: EMBEDDING_DIMENSIONS }, () => rng.next());
      started = performance.now();
      index.search(query, 10);
      times.push(performance.now() - started);
    }
    const steady = times.slice(20);
    const p99 = [...steady].sort((x, y) => x - y)[Math.floor(steady.length * 0.99)];
    console.log(`content index: ${index.size} embeddings of ${EMBEDDING_DIMENSIONS} int8 values, ${((4 + EMBEDDING_DIMENSIONS) * index.size / 2 ** 20).toFixed(1)} MiB; read from their files (in the background at a start) in ${openMs.toFixed(0)} ms`);
    console.log(`content search top 10 over ${index.size}: median ${ms(median(steady))}, p99 ${ms(p99)}, max ${ms(Math.max(...steady))}, first (cold) ${ms(times[0])}`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function precisionRecall(pairs: Pair[], positive: (p: Pair) => boolean, predicted: (p: Pair) => boolean): string {
  let tp = 0; let fp = 0; let fn = 0;
  for (const pair of pairs) {
    const p = predicted(pair);
    if (p && positive(pair)) tp++;
    else if (p) fp++;
    else if (positive(pair)) fn++;
  }
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  return `precision ${precision.toFixed(3)} recall ${(tp / (tp + fn)).toFixed(3)} (tp ${tp}, fp ${fp}, fn ${fn})`;
}

async function buildPairs(dir: string, scenes: number): Promise<{ pairs: Pair[]; signMs: number[] }> {
  const pairs: Pair[] = [];
  const signMs: number[] = [];
  const originals: Array<{ file: string; phash: string }> = [];
  for (let s = 0; s < scenes; s++) {
    const png = await scene(1000 + s);
    const file = join(dir, `scene-${s}.png`);
    await writeFile(file, png);
    let started = performance.now();
    const { phash } = await computeSignature(file);
    signMs.push(performance.now() - started);
    originals.push({ file, phash });
    for (const variant of [...NEAR_DUPLICATE_VARIANTS, ...CHANGED_VIEW_VARIANTS]) {
      const changed = join(dir, `scene-${s}-${variant}.jpg`);
      await writeFile(changed, await variantOf(png, variant));
      started = performance.now();
      const other = await computeSignature(changed);
      signMs.push(performance.now() - started);
      pairs.push({
        a: file, b: changed, variant, distance: hammingDistance(phash, other.phash),
        kind: NEAR_DUPLICATE_VARIANTS.includes(variant) ? 'near_duplicate' : 'changed_view',
      });
    }
  }
  // Unrelated: each scene against the next four.
  for (let s = 0; s < scenes; s++) {
    for (let k = 1; k <= Math.min(4, scenes - 1); k++) {
      const other = originals[(s + k) % scenes];
      pairs.push({ a: originals[s].file, b: other.file, kind: 'unrelated', variant: 'unrelated', distance: hammingDistance(originals[s].phash, other.phash) });
    }
  }
  return { pairs, signMs };
}

async function benchFeatures(pairs: Pair[]): Promise<void> {
  const matcher = new FeatureMatcher({ idleMs: () => 60_000, maxWaiting: 4 });
  const decided: Array<Pair & { same: boolean; inliers: number }> = [];
  const times: number[] = [];
  let first = 0;
  try {
    for (const pair of pairs) {
      const started = performance.now();
      const comparison = await matcher.compare(pair.a, pair.b);
      const took = performance.now() - started;
      if (first === 0) first = took;
      else times.push(took);
      decided.push({ ...pair, same: comparison.same_object, inliers: comparison.inliers });
    }
  } finally {
    await matcher.close();
  }
  const related = (p: Pair): boolean => p.kind !== 'unrelated';
  const views = decided.filter((p) => p.kind !== 'near_duplicate');
  console.log(`same_object over crops and rotations vs unrelated (${views.length} pairs): ${precisionRecall(views, related, (p) => decided.find((d) => d === p)!.same)}`);
  console.log(`same_object over all ${decided.length} pairs: ${precisionRecall(decided, related, (p) => decided.find((d) => d === p)!.same)}`);
  for (const variant of [...CHANGED_VIEW_VARIANTS, ...NEAR_DUPLICATE_VARIANTS, 'unrelated'] as const) {
    const of = decided.filter((p) => p.variant === variant);
    if (of.length === 0) continue;
    const inliers = of.map((p) => p.inliers);
    console.log(`  ${variant.padEnd(12)} same_object ${of.filter((p) => p.same).length}/${of.length}, inliers median ${median(inliers)} min ${Math.min(...inliers)} max ${Math.max(...inliers)}`);
  }
  console.log(`compare time (two 640x480 images, worker warm): median ${ms(median(times))}, max ${ms(Math.max(...times))}; first, loading OpenCV in the worker: ${ms(first)}`);
}

/**
 * The daemon's idle RSS before the compare worker is first used and after it has ended. Two
 * images are stored first and compared by id, so the upload path (multipart parser, libvips) is
 * warm before the first reading and the comparison adds only itself; a second round repeats it.
 */
async function benchRss(dir: string): Promise<void> {
  const daemon = await startDaemon(join(dir, 'daemon'), { FEATURE_WORKER_IDLE_SECONDS: '2' });
  const status = async (): Promise<{ memory_rss_mb: number; similarity: { feature_worker: { running: boolean } } }> =>
    (await fetch(`${daemon.url}/memory_status`)).json() as Promise<{ memory_rss_mb: number; similarity: { feature_worker: { running: boolean } } }>;
  const settle = async (): Promise<number> => {
    for (let i = 0; i < 50 && (await status()).similarity.feature_worker.running; i++) await sleep(200);
    await sleep(5000);
    return (await status()).memory_rss_mb;
  };
  try {
    const ids: string[] = [];
    for (const image of [await scene(1), await variantOf(await scene(1), 'crop_10')]) {
      // Three uploads of each, the first kept for the comparison: the rest only warm the path.
      for (let round = 0; round < 3; round++) {
        const res = await fetch(`${daemon.url}/images`, { method: 'POST', body: image, headers: { 'Content-Type': 'image/png' } });
        const { images } = (await res.json()) as { images: Array<{ id: string }> };
        if (round === 0) ids.push(images[0].id);
      }
    }
    const compare = async (): Promise<void> => {
      const res = await fetch(`${daemon.url}/compare`, { method: 'POST', body: JSON.stringify({ id1: ids[0], id2: ids[1] }), headers: { 'Content-Type': 'application/json' } });
      await res.json();
    };
    const readings = [await settle()];
    for (let round = 0; round < 2; round++) {
      await compare();
      readings.push(await settle());
    }
    console.log(`daemon idle RSS (MB): after warm-up uploads ${readings[0]}, after a compare and the worker's end ${readings[1]}, after a second ${readings[2]}`);
  } finally {
    await daemon.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scenes: { type: 'string', default: '30' }, 'skip-rss': { type: 'boolean', default: false }, 'only-rss': { type: 'boolean', default: false }, 'only-index': { type: 'boolean', default: false } } });
  const scenes = Number(values.scenes);
  console.log(describeMachine());
  console.log('note: the machine is shared and noisy; times vary run to run.\n');
  if (values['only-rss']) {
    const dir = await mkdtemp(join(tmpdir(), 'pir-bench-similarity-'));
    await benchRss(dir).finally(() => rm(dir, { recursive: true, force: true }));
    return;
  }
  benchIndex();
  await benchContentIndex();
  if (values['only-index']) return;
  const dir = await mkdtemp(join(tmpdir(), 'pir-bench-similarity-'));
  try {
    const { pairs, signMs } = await buildPairs(dir, scenes);
    const counts = (kind: Pair['kind']): number => pairs.filter((p) => p.kind === kind).length;
    console.log(`\nlabelled set: ${pairs.length} pairs from ${scenes} generated 640x480 scenes: ${counts('near_duplicate')} near-duplicates (${NEAR_DUPLICATE_VARIANTS.join(', ')}), ${counts('changed_view')} changed views (${CHANGED_VIEW_VARIANTS.join(', ')}), ${counts('unrelated')} unrelated`);
    console.log(`signature time per image (decode + 32x32 + DCT): median ${ms(median(signMs))}`);
    const dup = (p: Pair): boolean => p.kind === 'near_duplicate';
    for (const d of [4, 6, 8, 10, 12, 14, 16]) {
      console.log(`duplicate_max_distance ${String(d).padStart(2)}${d === RECOMMENDED_DISTANCE ? ' (recommended)' : '              '}: ${precisionRecall(pairs, dup, (p) => p.distance <= d)}`);
    }
    for (const variant of [...NEAR_DUPLICATE_VARIANTS, ...CHANGED_VIEW_VARIANTS, 'unrelated'] as const) {
      const distances = pairs.filter((p) => p.variant === variant).map((p) => p.distance);
      console.log(`  ${variant.padEnd(12)} hash distance median ${median(distances)} min ${Math.min(...distances)} max ${Math.max(...distances)}`);
    }
    console.log('');
    await benchFeatures(pairs);
    if (!values['skip-rss']) {
      console.log('');
      await benchRss(dir);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
