import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { invalidMessageTime, malformedMessage, messageWithoutImage } from '../errors';
import { asDiskError } from '../storage/disk-errors';
import { messageType, type ImageSchema } from './image-schemas';
import { scanMessage, type FileRegion } from './message-scan';
import type { ImageInput } from '../pipeline/image-input';
import type { RawFrameSpec } from '../pipeline/raw-encodings';

/** What an image message carries for the daemon: the image, when and by which camera frame. */
export interface ImageMessage {
  /** The image file for the pipeline: encoded (sniffed as usual) or raw pixels with their description. */
  input: ImageInput;
  /** The message timestamp as ISO-8601; null when unset (zero). */
  capturedAt: string | null;
  /** The message's frame_id; empty when unset. */
  frameId: string;
}

/** A protobuf timestamp in either shape: google.protobuf.Timestamp or ros.Time. */
interface Stamp { seconds?: unknown; nanos?: number; sec?: number; nsec?: number }

/** The fields of the four schemas, as protobufjs decodes them (keepCase). */
interface DecodedImage {
  timestamp?: Stamp;
  header?: { stamp?: Stamp; frame_id?: string };
  frame_id?: string;
  width?: number;
  height?: number;
  encoding?: string;
  step?: number;
  is_bigendian?: number;
}

/**
 * Decodes the protobuf image message in `file` for the pipeline. Memory: the message is never
 * read whole. Its `data` field is located by the wire format and left on disk; protobufjs decodes
 * the rest (a few hundred bytes). Raw pixels are then read once, from their place in `file`, into
 * the pipeline's one frame-sized buffer; an encoded image is streamed into a file of its own in
 * `dir`, since sharp opens whole files.
 * @throws AppError invalid_parameter for a malformed message or one without image data.
 */
export async function readImageMessage(file: string, schema: ImageSchema, dir: string): Promise<ImageMessage> {
  const type = messageType(schema);
  const { head, field: data } = await scanMessage(file, type.fields.data.id, schema);
  const decoded = decodeMessage(schema, head);
  if (!data || data.length === 0) {
    throw messageWithoutImage(schema);
  }
  const header = decoded.header ?? {};
  return {
    input: schema.endsWith('CompressedImage')
      ? await copyRegion(file, data, join(dir, 'message-data'))
      : { file, raw: rawSpec(decoded), region: data },
    capturedAt: stampToIso(schema, decoded.timestamp ?? header.stamp),
    frameId: decoded.frame_id ?? header.frame_id ?? '',
  };
}

function decodeMessage(schema: ImageSchema, bytes: Buffer): DecodedImage {
  try {
    return messageType(schema).decode(bytes) as DecodedImage;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw malformedMessage(schema, reason, err);
  }
}

/** Streams a region of `file` into a new file `to`. */
async function copyRegion(file: string, region: FileRegion, to: string): Promise<string> {
  try {
    await pipeline(
      createReadStream(file, { start: region.offset, end: region.offset + region.length - 1 }),
      createWriteStream(to, { flags: 'wx' }),
    );
  } catch (err) {
    throw asDiskError(err) ?? err;
  }
  return to;
}

function rawSpec(decoded: DecodedImage): RawFrameSpec {
  return {
    encoding: decoded.encoding ?? '',
    width: decoded.width ?? 0,
    height: decoded.height ?? 0,
    // proto3 cannot tell an unset step from 0: both mean "rows are not padded".
    step: decoded.step || undefined,
    bigEndian: Boolean(decoded.is_bigendian),
  };
}

/**
 * A message timestamp as ISO-8601, or null when it is unset (all zero, proto3's default).
 * @throws AppError invalid_parameter for a time no date can hold.
 */
function stampToIso(schema: ImageSchema, stamp: Stamp | undefined): string | null {
  if (!stamp) return null;
  const seconds = toNumber(stamp.seconds ?? stamp.sec ?? 0);
  const nanos = Number(stamp.nanos ?? stamp.nsec ?? 0);
  if (seconds === 0 && nanos === 0) return null;
  const time = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
  if (Number.isNaN(time.getTime()) || nanos < 0 || nanos >= 1e9) {
    throw invalidMessageTime(schema, seconds, nanos);
  }
  return time.toISOString();
}

/** int64 decodes as a Long object (protobufjs depends on long.js) or, for small values, a number. */
function toNumber(value: unknown): number {
  if (typeof value === 'object' && value !== null && 'toNumber' in value) return (value as { toNumber(): number }).toNumber();
  return Number(value);
}
