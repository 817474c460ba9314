import { statSync } from 'node:fs';
import { CLIP_TEXT_FILES, CLIP_VISION_FILES, findModelFile } from './clip-files';

/**
 * What onnxruntime-web adds to the labels worker before any real model, in MiB: its WebAssembly
 * compiled and its heap. `npm run bench:labels -- --only-clip` measured 122 MiB of private memory
 * with the tests' tiny export on x86-64; rounded up.
 */
export const CLIP_RUNTIME_MB = 130;

/**
 * How many times a model file's size the runtime holds once its session is made: the file read
 * into JavaScript, copied into the WebAssembly heap, and the weights the session prepares from it.
 * An estimate: a real CLIP export (ViT-B/32, about 350 MB in full precision) was not measured here.
 */
export const CLIP_MODEL_FACTOR = 3;

/**
 * The memory the CLIP export in `dir` adds to the labels worker, in MiB, for the memory admission
 * of the image or query that starts the worker: the runtime, and each model file it will load.
 */
export function clipWorkerMb(dir: string): number {
  const bytes = [CLIP_VISION_FILES, CLIP_TEXT_FILES].reduce((sum, files) => {
    const file = findModelFile(dir, files);
    return sum + (file ? statSync(file, { throwIfNoEntry: false })?.size ?? 0 : 0);
  }, 0);
  return CLIP_RUNTIME_MB + Math.ceil((CLIP_MODEL_FACTOR * bytes) / (1024 * 1024));
}
