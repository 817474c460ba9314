import type { Context } from 'koa';
import { invalidParam } from '../errors';
import { parseImageSchema } from '../messages/image-schemas';
import { rawFrameLayout, type RawFrameSpec } from '../pipeline/raw-encodings';
import type { UploadKind } from '../messages/unpack-upload';
import { single, type Raw } from './parse-params';

/** The Content-Types of a protobuf message body. */
const PROTOBUF_TYPES = ['application/x-protobuf', 'application/protobuf', 'application/vnd.google.protobuf'];

/** Largest width or height of a raw frame; max_input_pixels bounds the product. */
const MAX_SIDE = 100_000;

/**
 * Tells the body's kind from its Content-Type and query, before a byte of it is read. Raw pixels
 * have no magic bytes, so a body is raw only when the client says so: `image/x-raw`, or
 * `application/octet-stream` with `?encoding=`; an octet-stream without it is sniffed as an
 * encoded image, as before.
 * @throws AppError invalid_parameter for a bad frame description or schema.
 */
export function parseUploadKind(ctx: Context): UploadKind {
  if (ctx.is('multipart')) return { kind: 'encoded' };
  if (ctx.is(PROTOBUF_TYPES)) {
    return { kind: 'message', schema: parseImageSchema(single('schema', ctx.query.schema) ?? (ctx.get('X-Schema') || undefined)) };
  }
  const encoding = single('encoding', ctx.query.encoding);
  if (!ctx.is('image/x-raw') && !(encoding !== undefined && ctx.is('application/octet-stream'))) return { kind: 'encoded' };
  const raw: RawFrameSpec = {
    encoding: encoding ?? '',
    width: dimension('width', ctx.query.width, true)!,
    height: dimension('height', ctx.query.height, true)!,
    step: dimension('step', ctx.query.step, false),
  };
  // Checked now, so that a wrong description is refused without reading the frame.
  rawFrameLayout(raw);
  return { kind: 'raw', raw };
}

function dimension(name: string, value: Raw, required: boolean): number | undefined {
  const text = single(name, value);
  if (text === undefined && !required) return undefined;
  const number = text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(number >= 1 && number <= (name === 'step' ? MAX_SIDE * 8 : MAX_SIDE))) {
    throw invalidParam(name, `integer between 1 and ${name === 'step' ? MAX_SIDE * 8 : MAX_SIDE}`, text ?? null);
  }
  return number;
}
