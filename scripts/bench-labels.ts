/**
 * npm run bench:labels -- [--images 20] [--only-clip]
 *
 * Measures object labels and the content embedding: the labels worker's start (runtime and
 * weights loaded) and its time per image for each model, its memory, what the detector finds on
 * generated scenes, whether edited copies embed nearest their original, and, in a real daemon with
 * labels on, the daemon's RSS before, while and after the worker runs; and CLIP's part with a
 * tiny CLIP-shaped export built as the tests build it (a real export's models are not measured:
 * none is on the npm registry). Prints figures; asserts nothing. Needs the models (npm run
 * models:install).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { decodeDetections } from '../server/labels/detections';
import { LABELS_WORKER_MB, LabelWorker } from '../server/labels/label-worker';
import { MODELS_DIR, modelsInstalled } from '../server/labels/models-dir';
import { readProcFields } from '../server/proc-fields';
import type { MemoryStatus } from '../server/store-parts';
import { startDaemon } from '../test/helpers/daemon-process';
import { CLIP_MEAN, CLIP_STD, TINY_VOCAB, writeTinyClip } from '../test/helpers/tiny-clip';
import { CHANGED_VIEW_VARIANTS, NEAR_DUPLICATE_VARIANTS, scene, variantOf, type Variant } from '../test/helpers/scenes';
import { describeMachine } from './load/machine';

const MIB = 1024 * 1024;
const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const p90 = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length * 0.9)];
const mb = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : `${(bytes / MIB).toFixed(1)} MiB`);

async function benchWorker(files: string[], dir: string): Promise<void> {
  const worker = new LabelWorker({ idleMs: () => 60_000 });
  try {
    let started = performance.now();
    await worker.detect(files[0], MODELS_DIR);
    const firstMs = performance.now() - started;
    started = performance.now();
    await worker.analyse(files[0], MODELS_DIR, { detect: false, embed: true });
    const firstEmbedMs = performance.now() - started;
    const times: number[] = [];
    const embedTimes: number[] = [];
    const found = new Map<string, number>();
    const low = new Map<string, number>();
    const originals: Float32Array[] = [];
    for (const file of files) {
      started = performance.now();
      const rows = await worker.detect(file, MODELS_DIR);
      times.push(performance.now() - started);
      for (const label of decodeDetections(rows, 640, 480, 0.4)) found.set(label.name, (found.get(label.name) ?? 0) + 1);
      for (const label of decodeDetections(rows, 640, 480, 0.2)) low.set(label.name, (low.get(label.name) ?? 0) + 1);
      started = performance.now();
      originals.push((await worker.analyse(file, MODELS_DIR, { detect: false, embed: true })).embedding!);
      embedTimes.push(performance.now() - started);
    }
    const status = readProcFields(`/proc/${worker.pid}/status`);
    console.log('\n## The labels worker (TensorFlow.js WASM SIMD, one thread)');
    console.log(`first image, worker start and detector load included: ${firstMs.toFixed(0)} ms; first embedding, its model's load included: ${firstEmbedMs.toFixed(0)} ms`);
    console.log(`labels (CenterNet 512×512) per 640×480 PNG, decoded and resized in the worker, ${files.length} images: median ${median(times).toFixed(0)} ms, p90 ${p90(times).toFixed(0)} ms`);
    console.log(`embedding (MobileNetV2 224×224, 1792-d) per image: median ${median(embedTimes).toFixed(0)} ms, p90 ${p90(embedTimes).toFixed(0)} ms`);
    console.log(`worker memory with both models, after ${2 * files.length + 2} jobs: RSS ${mb(status.VmRSS)}, private (RssAnon) ${mb(status.RssAnon)}, peak ${mb(status.VmHWM)}`);
    await benchRetrieval(worker, files, originals, dir);
    const list = (counts: Map<string, number>) => [...counts].map(([name, n]) => `${name} ×${n}`).join(', ') || 'none';
    console.log(`labels on ${files.length} generated scenes (random shapes, no objects drawn): at 0.4 ${list(found)}; at 0.2 ${list(low)}`);
  } finally {
    await worker.close();
  }
}

/** The same uploads with labels off: what the daemon's RSS does without them. */
async function benchDaemonWithoutLabels(pngs: Buffer[]): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-labels-'));
  const daemon = await startDaemon(dataDir, { LABELS: 'off' });
  const rss = async (): Promise<number> => ((await (await fetch(`${daemon.url}/memory_status`)).json()) as MemoryStatus).memory_rss_mb;
  try {
    await sleep(2000);
    const before = await rss();
    for (const png of pngs) await fetch(`${daemon.url}/images?source=bench`, { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });
    await sleep(5000);
    console.log(`for comparison, the same ${pngs.length} uploads with labels off: daemon RSS ${before.toFixed(1)} MiB before, ${(await rss()).toFixed(1)} MiB 5 s after`);
  } finally {
    await daemon.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Near-copy retrieval: is each edited copy's nearest original, by cosine, its own? */
async function benchRetrieval(worker: LabelWorker, files: string[], originals: Float32Array[], dir: string): Promise<void> {
  const variants: Variant[] = [...NEAR_DUPLICATE_VARIANTS, ...CHANGED_VIEW_VARIANTS];
  const missed: string[] = [];
  let total = 0;
  const count = Math.min(files.length, 10);
  for (let i = 0; i < count; i++) {
    const png = await readFile(files[i]);
    for (const variant of variants) {
      const copy = join(dir, 'copy.png');
      await writeFile(copy, await variantOf(png, variant));
      const embedding = (await worker.analyse(copy, MODELS_DIR, { detect: false, embed: true })).embedding!;
      const cosines = originals.map((original) => original.reduce((sum, value, d) => sum + value * embedding[d], 0));
      total++;
      if (cosines.indexOf(Math.max(...cosines)) !== i) missed.push(`${i}:${variant}`);
    }
  }
  console.log(`near-copy retrieval on generated scenes: ${total - missed.length} of ${total} edited copies (${variants.join(', ')}) nearest their own original among ${originals.length}; missed: ${missed.join(', ') || 'none'}`);
}

async function benchDaemon(pngs: Buffer[]): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-labels-'));
  const daemon = await startDaemon(dataDir, { LABELS: 'on', LABELS_WORKER_IDLE_SECONDS: '3' });
  const status = async (): Promise<MemoryStatus> => (await (await fetch(`${daemon.url}/memory_status`)).json()) as MemoryStatus;
  try {
    await sleep(2000);
    const before = (await status()).memory_rss_mb;
    for (const png of pngs) {
      const response = await fetch(`${daemon.url}/images?source=bench`, { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } });
      if (response.status !== 201) throw new Error(`upload answered ${response.status}`);
    }
    let peakWorker = 0;
    let during = 0;
    const deadline = Date.now() + 120_000;
    for (let s = await status(); (s.consumers.labels?.delivered ?? 0) < pngs.length; s = await status()) {
      if (Date.now() > deadline) throw new Error('the labels consumer did not finish within 120 s');
      peakWorker = Math.max(peakWorker, s.labels.worker.private_mb ?? 0);
      during = Math.max(during, s.memory_rss_mb);
      await sleep(100);
    }
    const labelled = await status();
    const last = labelled.labels.worker;
    peakWorker = Math.max(peakWorker, last.private_mb ?? 0);
    let s = labelled;
    while (s.labels.worker.running && Date.now() < deadline) {
      await sleep(250);
      s = await status();
    }
    await sleep(1000);
    const after = (await status()).memory_rss_mb;
    console.log('\n## In the daemon (labels on, labels_worker_idle_seconds 3)');
    console.log(`${pngs.length} images labelled and embedded; last image ${labelled.labels.last_ms} ms in the labels worker, queue wait included`);
    console.log(`daemon RSS: ${before.toFixed(1)} MiB before, at most ${during.toFixed(1)} MiB while labelling, ${after.toFixed(1)} MiB once the worker ended (worker running: ${s.labels.worker.running})`);
    console.log(`labels worker private memory (RssAnon) while it ran: up to ${peakWorker.toFixed(1)} MiB (LABELS_WORKER_MB weighs it at ${LABELS_WORKER_MB})`);
  } finally {
    await daemon.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * CLIP in the labels worker with a tiny export and CLIP's real preprocessing (shortest edge 224,
 * bicubic, 224×224 centre): the worker's memory before and after onnxruntime-web and the export
 * are loaded, and the time per image (decode, PIL-exact resize, normalise, run) and per text.
 */
async function benchClip(files: string[]): Promise<void> {
  const clipDir = await writeTinyClip({
    vision: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], text: Object.values(TINY_VOCAB).map((id) => [id % 3, 1, 0]),
    preprocessor: { size: { shortest_edge: 224 }, resample: 3, crop_size: { height: 224, width: 224 }, image_mean: CLIP_MEAN, image_std: CLIP_STD },
  });
  const worker = new LabelWorker({ idleMs: () => 60_000 });
  try {
    // A job that loads nothing: the worker's own memory (Node, sharp) before the runtime.
    await worker.analyse(files[0], MODELS_DIR, { detect: false, embed: false });
    const bare = readProcFields(`/proc/${worker.pid}/status`).RssAnon;
    let started = performance.now();
    await worker.analyse(files[0], MODELS_DIR, { detect: false, embed: false, clipDir });
    const firstMs = performance.now() - started;
    const times: number[] = [];
    for (const file of files) {
      started = performance.now();
      await worker.analyse(file, MODELS_DIR, { detect: false, embed: false, clipDir });
      times.push(performance.now() - started);
    }
    const textTimes: number[] = [];
    for (const text of ['a red car', 'a blue car', 'red', 'blue!!', 'a car', 'é', 'a '.repeat(100)]) {
      started = performance.now();
      await worker.embedText(text, MODELS_DIR, clipDir);
      textTimes.push(performance.now() - started);
    }
    const loaded = readProcFields(`/proc/${worker.pid}/status`);
    console.log('\n## CLIP (onnxruntime-web 1.31.1, WASM SIMD, one thread), with a tiny CLIP-shaped export');
    console.log(`first image, onnxruntime-web and the vision model loaded: ${firstMs.toFixed(0)} ms`);
    console.log(`per 640×480 PNG (decode, PIL-exact bicubic to 298×224, 224×224 crop, normalise, tiny model): median ${median(times).toFixed(0)} ms, p90 ${p90(times).toFixed(0)} ms`);
    console.log(`per text (tokenize, tiny text model), the first loading it: first ${textTimes[0].toFixed(0)} ms, then median ${median(textTimes.slice(1)).toFixed(0)} ms`);
    console.log(`worker private memory (RssAnon): ${mb(bare)} before onnxruntime-web, ${mb(loaded.RssAnon)} with it and both tiny models (+${mb((loaded.RssAnon ?? 0) - (bare ?? 0))}); RSS ${mb(loaded.VmRSS)}`);
  } finally {
    await worker.close();
    await rm(clipDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { images: { type: 'string', default: '20' }, 'only-clip': { type: 'boolean', default: false } } });
  if (!modelsInstalled(MODELS_DIR)) throw new Error(`the label models are not installed in ${MODELS_DIR}: run npm run models:install`);
  console.log(describeMachine());
  console.log('Pi speed is not measured here: these figures are from this machine only.');
  const count = Number(values.images);
  const dir = await mkdtemp(join(tmpdir(), 'bench-labels-'));
  try {
    const pngs = await Promise.all(Array.from({ length: count }, (_, i) => scene(100 + i)));
    const files = await Promise.all(pngs.map(async (png, i) => {
      const file = join(dir, `scene-${i}.png`);
      await writeFile(file, png);
      return file;
    }));
    await benchClip(files);
    if (values['only-clip']) return;
    await benchWorker(files, dir);
    await benchDaemon(pngs.slice(0, 5));
    await benchDaemonWithoutLabels(pngs.slice(0, 5));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
