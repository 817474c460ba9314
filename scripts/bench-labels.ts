/**
 * npm run bench:labels -- [--images 20]
 *
 * Measures object labels and the content embedding: the labels worker's start (runtime and
 * weights loaded) and its time per image for each model, its memory, what the detector finds on
 * generated scenes, whether edited copies embed nearest their original, and, in a real daemon with
 * labels on, the daemon's RSS before, while and after the worker runs. Prints figures; asserts
 * nothing. Needs the models (npm run models:install).
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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { images: { type: 'string', default: '20' } } });
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
