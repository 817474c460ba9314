import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';

/**
 * A tiny CLIP-shaped export in the Xenova layout, built here so that the tests know exactly what
 * it computes:
 * - vision (onnx/vision_model.onnx): pixel_values [1, 3, H, W] → GlobalAveragePool → Flatten →
 *   MatMul by `W` [3, D] → image_embeds [1, D]; with W the identity, the channel means of the
 *   preprocessed image;
 * - text (onnx/text_model.onnx): input_ids [1, 77] → Gather rows of `E` [V, D] → ReduceMean over
 *   the tokens → text_embeds [1, D];
 * - tokenizer.json: a vocabulary of a few words and the merges that build them, ids worked out
 *   by hand in {@link TINY_VOCAB};
 * - preprocessor_config.json as given.
 */

/** The subset of onnx.proto the two graphs need, with onnx.proto's field numbers. */
const ONNX_PROTO = `syntax = "proto3"; package onnx;
message AttributeProto { string name = 1; float f = 2; int64 i = 3; repeated int64 ints = 8; int32 type = 20; }
message TensorShapeProto { message Dimension { int64 dim_value = 1; string dim_param = 2; } repeated Dimension dim = 1; }
message TypeProto { message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; } Tensor tensor_type = 1; }
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; repeated float float_data = 4; string name = 8; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; repeated AttributeProto attribute = 5; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message ModelProto { int64 ir_version = 1; string producer_name = 2; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }`;

const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

const Model = protobuf.parse(ONNX_PROTO).root.lookupType('onnx.ModelProto');

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

function encodeModel(graph: object): Uint8Array {
  return Model.encode(Model.create({ irVersion: 8, producerName: 'pi-image-receiver tests', opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

/** The vision model: channel means of pixel_values times `weights` ([3][D], row by row). */
export function visionModel(weights: number[][]): Uint8Array {
  const width = weights[0].length;
  return encodeModel({
    name: 'vision', input: [valueInfo('pixel_values', FLOAT, ['batch', 3, 'height', 'width'])], output: [valueInfo('image_embeds', FLOAT, ['batch', width])],
    initializer: [{ name: 'W', dims: [3, width], dataType: FLOAT, floatData: weights.flat() }],
    node: [
      { opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] },
      { opType: 'Flatten', input: ['pooled'], output: ['flat'], attribute: [{ name: 'axis', i: 1, type: ATTRIBUTE_INT }] },
      { opType: 'MatMul', input: ['flat', 'W'], output: ['image_embeds'] },
    ],
  });
}

/** The text model: the mean over the 77 tokens of each token's row of `rows` ([V][D]). */
export function textModel(rows: number[][]): Uint8Array {
  const width = rows[0].length;
  return encodeModel({
    name: 'text', input: [valueInfo('input_ids', INT64, ['batch', 'tokens'])], output: [valueInfo('text_embeds', FLOAT, ['batch', width])],
    initializer: [{ name: 'E', dims: [rows.length, width], dataType: FLOAT, floatData: rows.flat() }],
    node: [
      { opType: 'Gather', input: ['E', 'input_ids'], output: ['gathered'], attribute: [{ name: 'axis', i: 0, type: ATTRIBUTE_INT }] },
      { opType: 'ReduceMean', input: ['gathered'], output: ['text_embeds'], attribute: [{ name: 'axes', ints: [1], type: ATTRIBUTE_INTS }, { name: 'keepdims', i: 0, type: ATTRIBUTE_INT }] },
    ],
  });
}

/**
 * The tiny vocabulary: symbols as byte-level BPE writes them (`</w>` ends a word; "Ã©" is é's
 * two UTF-8 bytes, 0xC3 0xA9, as GPT-2's byte alphabet prints them).
 */
export const TINY_VOCAB: Record<string, number> = {
  'a': 0, 'a</w>': 1, 'r': 2, 'e': 3, 'd</w>': 4, 're': 5, 'red</w>': 6, 'b': 7, 'l': 8, 'u': 9, 'e</w>': 10,
  'bl': 11, 'blu': 12, 'blue</w>': 13, 'c': 14, 'car</w>': 15, '<|startoftext|>': 16, '<|endoftext|>': 17,
  '!</w>': 18, '!': 19, 'Ã©</w>': 20, 'ca': 21,
};

/** The merges, by rank. */
export const TINY_MERGES = ['r e', 're d</w>', 'b l', 'bl u', 'blu e</w>', 'c a', 'ca r</w>', 'Ã ©</w>'];

/** tokenizer.json as Hugging Face's tokenizers writes CLIP's, with the tiny vocabulary. */
export function tinyTokenizerJson(): object {
  return {
    version: '1.0',
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
    post_processor: { type: 'RobertaProcessing', sep: ['<|endoftext|>', 17], cls: ['<|startoftext|>', 16] },
    model: { type: 'BPE', unk_token: '<|endoftext|>', end_of_word_suffix: '</w>', vocab: TINY_VOCAB, merges: TINY_MERGES },
  };
}

/** CLIP's own normalisation, as Xenova's preprocessor_config.json writes it. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/**
 * Writes a tiny export into a new temp folder and returns it: `vision` and `text` weights as
 * given, the tiny tokenizer, and `preprocessor` as preprocessor_config.json.
 */
export async function writeTinyClip(options: { vision: number[][]; text: number[][]; preprocessor: object }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pir-clip-'));
  await mkdir(join(dir, 'onnx'));
  await writeFile(join(dir, 'onnx', 'vision_model.onnx'), visionModel(options.vision));
  await writeFile(join(dir, 'onnx', 'text_model.onnx'), textModel(options.text));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(options.preprocessor));
  return dir;
}

/** A w×h RGB image whose every byte follows from its position, so that another program can make it too. */
export function patterned(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + x * y * 7) % 256;
  return rgb;
}

/** One pass of a 2× bilinear reduction, worked out by hand from PIL's triangle filter (support 1, stretched to 2). */
export function halveBilinear(values: number[]): number[] {
  // Inside: inputs 2i-1 .. 2i+2 weigh 1/8, 3/8, 3/8, 1/8; at the edges the missing one is left out
  // and the rest renormalised: 3/7, 3/7, 1/7 at the start, 1/7, 3/7, 3/7 at the end.
  const out: number[] = [];
  for (let i = 0; i < values.length / 2; i++) {
    const taps = [[2 * i - 1, 1], [2 * i, 3], [2 * i + 1, 3], [2 * i + 2, 1]].filter(([at]) => at >= 0 && at < values.length);
    const total = taps.reduce((sum, [, w]) => sum + w, 0);
    const value = taps.reduce((sum, [at, w]) => sum + values[at] * w, 0) / total;
    // PIL rounds halves up, and to a byte after each pass.
    out.push(Math.floor(value + 0.5));
  }
  return out;
}
