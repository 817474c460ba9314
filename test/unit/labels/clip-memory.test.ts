import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLIP_MODEL_FACTOR, CLIP_RUNTIME_MB, clipWorkerMb } from '../../../server/labels/clip-memory';
import { CLIP_MEAN, CLIP_STD, writeTinyClip } from '../../helpers/tiny-clip';

describe('what a CLIP export costs the labels worker, for the memory admission', () => {
  it('is the runtime plus three times the model files it will load, the full-precision ones first', async () => {
    const dir = await writeTinyClip({ vision: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], text: [[0, 0, 0]], preprocessor: { image_mean: CLIP_MEAN, image_std: CLIP_STD } });
    try {
      // The tiny models are a few hundred bytes: one MiB, rounded up.
      assert.equal(clipWorkerMb(dir), CLIP_RUNTIME_MB + 1);
      await writeFile(join(dir, 'onnx', 'vision_model.onnx'), Buffer.alloc(4 * 1024 * 1024));
      await writeFile(join(dir, 'onnx', 'vision_model_quantized.onnx'), Buffer.alloc(1024 * 1024));
      // 4 MiB of vision model, and the tiny text model's bytes round the sum up by one.
      assert.equal(clipWorkerMb(dir), CLIP_RUNTIME_MB + CLIP_MODEL_FACTOR * 4 + 1);
      // Without the full-precision file, the 8-bit one is the one loaded.
      await rm(join(dir, 'onnx', 'vision_model.onnx'));
      assert.equal(clipWorkerMb(dir), CLIP_RUNTIME_MB + CLIP_MODEL_FACTOR * 1 + 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
