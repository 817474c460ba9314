import type { FileRegion } from '../messages/message-scan';
import type { RawFrameSpec } from './raw-encodings';

/**
 * What the pipeline reads: the path of an encoded image file (its format is sniffed), an encoded
 * image in memory, or a file of raw camera pixels with the frame's description, which no sniffing
 * could tell.
 */
export type ImageInput = string | EncodedBytes | RawFrameInput;

/**
 * An encoded image its way in holds whole, never written to disk: a body no longer than the head
 * every way in keeps for its header (image-header.ts, HEAD_BYTES), a camera's 640x480 frame. It
 * goes to the worker beside its job, saving the file's writing, reading and removal.
 */
export interface EncodedBytes {
  bytes: Buffer;
}

/** A file of raw pixels, exactly `step` x `height` bytes, and how to read them. */
export interface RawFrameInput {
  file: string;
  raw: RawFrameSpec;
  /** Where in `file` the frame lies, when it is one field of a message. @default the whole file */
  region?: FileRegion;
}

/**
 * True for an encoded image held in memory rather than named by its file. Here, apart from
 * process-image.ts, which loads sharp, so that the daemon can tell without loading it.
 */
export function isEncodedBytes(input: ImageInput): input is EncodedBytes {
  return typeof input !== 'string' && 'bytes' in input;
}
