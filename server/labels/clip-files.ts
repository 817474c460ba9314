import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The model files tried in each folder, first found wins: full precision, then Xenova's 8-bit. */
export const CLIP_VISION_FILES = ['onnx/vision_model.onnx', 'onnx/vision_model_quantized.onnx'];
export const CLIP_TEXT_FILES = ['onnx/text_model.onnx', 'onnx/text_model_quantized.onnx'];

/** The first of `files` in `dir`, or undefined. */
export function findModelFile(dir: string, files: readonly string[]): string | undefined {
  return files.map((file) => join(dir, file)).find((path) => existsSync(path));
}
