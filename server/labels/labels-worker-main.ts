import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import sharp from 'sharp';
import { serveJobs } from '../workers/worker-process';
import { DETECTOR_INPUT_SIZE } from './detections';
import { DETECTOR_MODEL, WASM_DIR } from './models-dir';

/**
 * The worker process that holds the detector: TensorFlow.js with its WebAssembly backend (SIMD,
 * one thread) and the CenterNet weights, all read from the models folder. The WebAssembly heap
 * never shrinks, so the worker is forked on the first image and ended when idle (label-worker.ts).
 */

/** A job from the daemon: a stored PNG to label. */
export interface DetectJob {
  op: 'detect';
  modelsDir: string;
  file: string;
}

/** TensorFlow.js as far as the worker uses it; the packages are loaded from the models folder, untyped. */
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor4d(values: Float32Array, shape: number[]): { dispose(): void };
  dispose(tensors: unknown): void;
}
interface GraphModel {
  execute(input: unknown, outputs: string): { array(): Promise<number[][][]>; dispose(): void };
}

let detector: Promise<{ tf: Tf; model: GraphModel }> | undefined;

/** Loads the runtime and the weights once, from `modelsDir`. */
function loadDetector(modelsDir: string): Promise<{ tf: Tf; model: GraphModel }> {
  detector ??= (async () => {
    // Resolved as packages installed in the models folder, never from the daemon's node_modules.
    const load = createRequire(join(modelsDir, 'package.json'));
    const tf = load('@tensorflow/tfjs-core') as Tf;
    const converter = load('@tensorflow/tfjs-converter') as { loadGraphModel(handler: unknown): Promise<GraphModel> };
    const wasm = load('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string): void };
    // Node reads the WebAssembly from this folder (a path prefix, so the trailing slash matters).
    wasm.setWasmPaths(`${join(modelsDir, WASM_DIR)}/`);
    await tf.setBackend('wasm');
    await tf.ready();
    const dir = join(modelsDir, DETECTOR_MODEL);
    const json = JSON.parse(readFileSync(`${dir}.json`, 'utf8'));
    const weights = readFileSync(`${dir}.bin`);
    // The graph and its one weights file handed over directly: no fetch, no file URL.
    const model = await converter.loadGraphModel({
      load: async () => ({
        modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
        signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: json.weightsManifest.flatMap((group: { weights: unknown[] }) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    });
    return { tf, model };
  })();
  return detector;
}

/** The detector's raw rows for one image: [x1, y1, x2, y2, score, class] in input pixels, the image squashed into the square. */
async function detect(job: DetectJob): Promise<number[][]> {
  const { tf, model } = await loadDetector(job.modelsDir);
  // Decoded here, not in the daemon, so that libvips' buffers go with the worker too.
  const pixels = await sharp(job.file, { sequentialRead: true })
    .removeAlpha()
    .resize(DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE, { fit: 'fill' })
    .raw()
    .toBuffer();
  // The model takes 0-255 floats, not 0-1.
  const input = tf.tensor4d(Float32Array.from(pixels), [1, DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE, 3]);
  try {
    const output = model.execute(input, 'tower_0/detections');
    try {
      return (await output.array())[0];
    } finally {
      output.dispose();
    }
  } finally {
    input.dispose();
  }
}

serveJobs<DetectJob>(detect);
