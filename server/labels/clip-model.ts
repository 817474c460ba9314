import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLIP_TEXT_FILES, CLIP_VISION_FILES, findModelFile } from './clip-files';
import { clipPixelValues, parsePreprocessorConfig, type ClipPreprocessorConfig } from './clip-preprocess';
import { ClipTokenizer, CLIP_CONTEXT_LENGTH } from './clip-tokenizer';
import { ORT_WASM_DIR } from './models-dir';
import { unitLength } from './unit-length';

/**
 * A CLIP export in the Xenova layout, run by onnxruntime-web (WebAssembly, one thread) in the
 * labels worker: the vision model embeds an image, the text model a query, both into one space.
 * Loaded on first use, from the folder `clip_model_dir` names; the runtime from the models folder.
 */

/** onnxruntime-web as far as the worker uses it (loaded from the models folder, untyped). */
interface OrtTensor { data: Float32Array | BigInt64Array }
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}
interface Ort {
  env: { wasm: { numThreads: number; wasmPaths: string } };
  Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array): Promise<OrtSession> };
}

let ort: Ort | undefined;

/** Loads onnxruntime-web once from `modelsDir`: one thread, its WebAssembly read from that folder. */
function loadOrt(modelsDir: string): Ort {
  if (!ort) {
    ort = createRequire(join(modelsDir, 'package.json'))('onnxruntime-web') as Ort;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = `${join(modelsDir, ORT_WASM_DIR)}/`;
  }
  return ort;
}

/** The first output named `preferred`, else the model's first output, as a unit-length vector. */
function embeddingOf(session: OrtSession, outputs: Record<string, OrtTensor>, preferred: string): Float32Array {
  const name = session.outputNames.includes(preferred) ? preferred : session.outputNames[0];
  return unitLength(outputs[name].data as Float32Array);
}

/** One CLIP folder's models, tokenizer and preprocessing, each loaded on first use. */
export class ClipModel {
  private vision?: Promise<{ session: OrtSession; config: ClipPreprocessorConfig }>;
  private text?: Promise<{ session: OrtSession; tokenizer: ClipTokenizer }>;

  constructor(private readonly modelsDir: string, readonly dir: string) {}

  private async session(files: readonly string[]): Promise<OrtSession> {
    const file = findModelFile(this.dir, files);
    if (!file) throw new Error(`${this.dir} has none of ${files.join(', ')} (docs/labels.md#clip)`);
    return loadOrt(this.modelsDir).InferenceSession.create(await readFile(file));
  }

  private async json(name: string): Promise<unknown> {
    return JSON.parse(await readFile(join(this.dir, name), 'utf8'));
  }

  /** The unit-length CLIP embedding of an image file. */
  async embedImage(file: string): Promise<Float32Array> {
    this.vision ??= (async () => ({ session: await this.session(CLIP_VISION_FILES), config: parsePreprocessorConfig(await this.json('preprocessor_config.json')) }))();
    // A failed load is tried again by the next image: the operator may have fixed the folder.
    const { session, config } = await this.vision.catch((err: unknown) => {
      this.vision = undefined;
      throw err;
    });
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const pixels = clipPixelValues(data, info.width, info.height, config);
    const Tensor = loadOrt(this.modelsDir).Tensor;
    const outputs = await session.run({ [session.inputNames[0]]: new Tensor('float32', pixels.data, [1, 3, pixels.height, pixels.width]) });
    return embeddingOf(session, outputs, 'image_embeds');
  }

  /** The unit-length CLIP embedding of a text, and its token ids. */
  async embedText(text: string): Promise<{ embedding: Float32Array; ids: number[] }> {
    this.text ??= (async () => ({ session: await this.session(CLIP_TEXT_FILES), tokenizer: new ClipTokenizer(await this.json('tokenizer.json')) }))();
    const { session, tokenizer } = await this.text.catch((err: unknown) => {
      this.text = undefined;
      throw err;
    });
    const { ids, mask } = tokenizer.encode(text);
    const Tensor = loadOrt(this.modelsDir).Tensor;
    const feeds: Record<string, OrtTensor> = { input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, CLIP_CONTEXT_LENGTH]) };
    // Exports with an attention mask take it: 1 up to <|endoftext|>, 0 on the padding after it.
    if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new Tensor('int64', BigInt64Array.from(mask, BigInt), [1, CLIP_CONTEXT_LENGTH]);
    const outputs = await session.run(feeds);
    return { embedding: embeddingOf(session, outputs, 'text_embeds'), ids };
  }
}
