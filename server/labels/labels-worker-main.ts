import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import sharp from 'sharp';
import { serveJobs } from '../workers/worker-process';
import { ClipModel } from './clip-model';
import { DETECTOR_INPUT_SIZE } from './detections';
import { DETECTOR_MODEL, EMBEDDING_MODEL, WASM_DIR } from './models-dir';
import { unitLength } from './unit-length';

/**
 * The worker process that holds the models: TensorFlow.js with its WebAssembly backend (SIMD,
 * one thread), the CenterNet detector and the MobileNetV2 embedding, all read from the models
 * folder, each loaded on its first use; and, where clip_model_dir names a CLIP export, its models
 * on onnxruntime-web (clip-model.ts). The WebAssembly heap never shrinks, so the worker is
 * forked on the first image and ended when idle (label-worker.ts).
 */

/**
 * A job from the daemon: a PNG to label (`detect`), to embed (`embed`), or both, and with
 * `clipDir` to embed by CLIP too.
 */
export interface AnalyseJob {
  op: 'analyse';
  modelsDir: string;
  file: string;
  detect: boolean;
  embed: boolean;
  clipDir?: string;
}

/** A text to embed by the CLIP export in `clipDir`. */
export interface ClipTextJob {
  op: 'clip-text';
  modelsDir: string;
  clipDir: string;
  text: string;
}

/** What an analyse job answers: the detector's raw rows, the unit-length embedding, the CLIP one. */
export interface Analysis {
  rows?: number[][];
  embedding?: Float32Array;
  clip?: Float32Array;
  /** The CLIP embedding's time in the worker, decode included, in ms. */
  clipMs?: number;
  /** Why the CLIP embedding failed, when the labels did not: a broken export must not stop them. */
  clipError?: string;
}

/** What a clip-text job answers: the unit-length text embedding and the token ids it was made of. */
export interface ClipText {
  embedding: Float32Array;
  ids: number[];
}

/** The embedding's input: 224×224 RGB, squashed, in 0-1 (the graph maps it to -1..1 itself). */
export const EMBEDDING_INPUT_SIZE = 224;
/** The pooled 1792-d feature vector of mobilenet_v2_140_224, before nsfwjs's own classifier. */
const EMBEDDING_OUTPUT = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze';
const DETECTOR_OUTPUT = 'tower_0/detections';

/** TensorFlow.js as far as the worker uses it; the packages are loaded from the models folder, untyped. */
interface Tensor {
  array(): Promise<unknown>;
  data(): Promise<Float32Array>;
  dispose(): void;
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor4d(values: Float32Array, shape: number[]): Tensor;
}
interface GraphModel {
  execute(input: Tensor, outputs: string): Tensor;
}
interface Converter {
  loadGraphModel(handler: unknown): Promise<GraphModel>;
}

let runtime: Promise<{ tf: Tf; converter: Converter }> | undefined;
const models = new Map<string, Promise<GraphModel>>();

/** Loads TensorFlow.js and its WebAssembly backend once, from `modelsDir`. */
function loadRuntime(modelsDir: string): Promise<{ tf: Tf; converter: Converter }> {
  runtime ??= (async () => {
    // Resolved as packages installed in the models folder, never from the daemon's node_modules.
    const load = createRequire(join(modelsDir, 'package.json'));
    const tf = load('@tensorflow/tfjs-core') as Tf;
    const converter = load('@tensorflow/tfjs-converter') as Converter;
    const wasm = load('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string): void };
    // Node reads the WebAssembly from this folder (a path prefix, so the trailing slash matters).
    wasm.setWasmPaths(`${join(modelsDir, WASM_DIR)}/`);
    await tf.setBackend('wasm');
    await tf.ready();
    return { tf, converter };
  })();
  return runtime;
}

/** Loads the graph model `<path>.json` with its one weights file `<path>.bin`, once. */
function loadModel(modelsDir: string, path: string): Promise<GraphModel> {
  let model = models.get(path);
  if (!model) {
    model = (async () => {
      const { converter } = await loadRuntime(modelsDir);
      const file = join(modelsDir, path);
      const json = JSON.parse(readFileSync(`${file}.json`, 'utf8'));
      const weights = readFileSync(`${file}.bin`);
      // The graph and its weights handed over directly: no fetch, no file URL.
      return converter.loadGraphModel({
        load: async () => ({
          modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
          signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
          weightSpecs: json.weightsManifest.flatMap((group: { weights: unknown[] }) => group.weights),
          weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        }),
      });
    })();
    models.set(path, model);
  }
  return model;
}

/** Runs `model` on `size`×`size` RGB `pixels`, each multiplied by `scale`, and reads `output`. */
async function run(tf: Tf, model: GraphModel, pixels: Buffer, size: number, scale: number, output: string): Promise<Tensor> {
  const values = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) values[i] = pixels[i] * scale;
  const input = tf.tensor4d(values, [1, size, size, 3]);
  try {
    return model.execute(input, output);
  } finally {
    input.dispose();
  }
}

/** The image squashed (no crop, no padding) to a `size` square, RGB bytes. */
function squashed(image: sharp.Sharp, size: number): Promise<Buffer> {
  return image.clone().resize(size, size, { fit: 'fill' }).raw().toBuffer();
}

let clip: ClipModel | undefined;

/** The CLIP export in `clipDir`, loaded once; another folder replaces it. */
function clipModel(modelsDir: string, clipDir: string): ClipModel {
  if (clip?.dir !== clipDir) clip = new ClipModel(modelsDir, clipDir);
  return clip;
}

async function analyse(job: AnalyseJob): Promise<Analysis> {
  const analysis: Analysis = {};
  if (job.clipDir) {
    const started = performance.now();
    try {
      analysis.clip = await clipModel(job.modelsDir, job.clipDir).embedImage(job.file);
      analysis.clipMs = Math.round(performance.now() - started);
    } catch (err) {
      if (!job.detect && !job.embed) throw err;
      analysis.clipError = (err as Error).message;
    }
  }
  if (!job.detect && !job.embed) return analysis;
  const { tf } = await loadRuntime(job.modelsDir);
  // Decoded here, not in the daemon, so that libvips' buffers go with the worker too.
  const image = sharp(job.file).removeAlpha();
  if (job.detect) {
    const model = await loadModel(job.modelsDir, DETECTOR_MODEL);
    // CenterNet takes 0-255 floats.
    const output = await run(tf, model, await squashed(image, DETECTOR_INPUT_SIZE), DETECTOR_INPUT_SIZE, 1, DETECTOR_OUTPUT);
    try {
      analysis.rows = ((await output.array()) as number[][][])[0];
    } finally {
      output.dispose();
    }
  }
  if (job.embed) {
    const model = await loadModel(job.modelsDir, EMBEDDING_MODEL);
    const output = await run(tf, model, await squashed(image, EMBEDDING_INPUT_SIZE), EMBEDDING_INPUT_SIZE, 1 / 255, EMBEDDING_OUTPUT);
    try {
      analysis.embedding = unitLength(await output.data());
    } finally {
      output.dispose();
    }
  }
  return analysis;
}

serveJobs<AnalyseJob | ClipTextJob>((job) => (job.op === 'clip-text' ? clipModel(job.modelsDir, job.clipDir).embedText(job.text) : analyse(job)));
