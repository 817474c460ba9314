import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors';
import { asDiskError } from '../storage/disk-errors';
import { messageType, type ImageSchema } from './image-schemas';
import type { ImageInput } from './process-image';
import type { RawFrameSpec } from './raw-encodings';

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
  data?: Uint8Array;
  width?: number;
  height?: number;
  encoding?: string;
  step?: number;
  is_bigendian?: number;
}

/**
 * Decodes a protobuf image message from `file` and writes its image data to a file of its own in
 * `dir`, for the pipeline. Memory: the whole message is read (it is bounded by max_upload_bytes),
 * its `data` field is a view into it, not a copy, and is written out at once; the message buffer
 * is then unreferenced, though it lives until the garbage collector frees it, so at worst it
 * overlaps the one frame-sized buffer the pipeline reads a raw frame into.
 * @throws AppError invalid_parameter for a malformed message or one without image data.
 */
export async function readImageMessage(file: string, schema: ImageSchema, dir: string): Promise<ImageMessage> {
  const decoded = decodeMessage(schema, await readFile(file));
  if (!decoded.data || decoded.data.length === 0) {
    throw new AppError('invalid_parameter', `The ${schema} message has no image data`);
  }
  const frame = join(dir, 'message-data');
  try {
    await writeFile(frame, decoded.data, { flag: 'wx' });
  } catch (err) {
    throw asDiskError(err) ?? err;
  }
  const header = decoded.header ?? {};
  return {
    input: schema.endsWith('CompressedImage') ? frame : { file: frame, raw: rawSpec(decoded) },
    capturedAt: stampToIso(schema, decoded.timestamp ?? header.stamp),
    frameId: decoded.frame_id ?? header.frame_id ?? '',
  };
}

function decodeMessage(schema: ImageSchema, bytes: Buffer): DecodedImage {
  try {
    return messageType(schema).decode(bytes) as DecodedImage;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new AppError('invalid_parameter', `The body is not a valid ${schema} message: ${reason.slice(0, 200)}`, { cause: err });
  }
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
    throw new AppError('invalid_parameter', `The ${schema} message's timestamp (${seconds} s, ${nanos} ns) is not a valid time`);
  }
  return time.toISOString();
}

/** int64 decodes as a Long object (protobufjs depends on long.js) or, for small values, a number. */
function toNumber(value: unknown): number {
  if (typeof value === 'object' && value !== null && 'toNumber' in value) return (value as { toNumber(): number }).toNumber();
  return Number(value);
}
