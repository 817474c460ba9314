import { open, type FileHandle } from 'node:fs/promises';
import { AppError } from '../errors';

/** Where one field's bytes lie in a file. */
export interface FileRegion {
  offset: number;
  length: number;
}

/** A protobuf message split in two: every field but one, in memory, and that one's place on disk. */
export interface ScannedMessage {
  /** The message without the set-aside field: itself a valid message of the same type. */
  head: Buffer;
  /** The set-aside field's bytes (the last occurrence, as protobuf reads a repeated scalar), or null. */
  field: FileRegion | null;
}

/** The fields of an image message besides its pixels are small; more than this is not an image message. */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Walks the top level of the protobuf message in `file` by its wire format (tags and lengths
 * only) and sets the length-delimited field `fieldNumber` aside: its bytes stay on disk and only
 * the rest is read. So an image message's pixels are never read into memory whole to be decoded,
 * and then copied: the pipeline reads them once, from their place in the file.
 * @throws AppError invalid_parameter for a truncated or malformed message, naming `typeName`.
 */
export async function scanMessage(file: string, fieldNumber: number, typeName: string): Promise<ScannedMessage> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const parts: Buffer[] = [];
    let headBytes = 0;
    let field: FileRegion | null = null;
    const malformed = (reason: string): AppError =>
      new AppError('invalid_parameter', `The body is not a valid ${typeName} message: ${reason}`);
    for (let pos = 0; pos < size;) {
      const tag = await readVarint(handle, pos, size);
      if (!tag) throw malformed(`truncated tag at byte ${pos}`);
      const wireType = tag.value % 8;
      let end: number;
      let dataStart = tag.next;
      if (wireType === 0) {
        const value = await readVarint(handle, tag.next, size);
        if (!value) throw malformed(`truncated varint at byte ${tag.next}`);
        end = value.next;
      } else if (wireType === 1 || wireType === 5) {
        end = tag.next + (wireType === 1 ? 8 : 4);
      } else if (wireType === 2) {
        const length = await readVarint(handle, tag.next, size);
        if (!length) throw malformed(`truncated length at byte ${tag.next}`);
        dataStart = length.next;
        end = length.next + length.value;
      } else {
        throw malformed(`wire type ${wireType} at byte ${pos}`);
      }
      if (end > size) throw malformed(`a field at byte ${pos} runs past the end (${end} > ${size} bytes)`);
      if (wireType === 2 && Math.floor(tag.value / 8) === fieldNumber) {
        field = { offset: dataStart, length: end - dataStart };
      } else {
        headBytes += end - pos;
        if (headBytes > MAX_HEAD_BYTES) throw malformed(`more than ${MAX_HEAD_BYTES} bytes besides the image data`);
        parts.push(await readAt(handle, pos, end - pos));
      }
      pos = end;
    }
    return { head: Buffer.concat(parts), field };
  } finally {
    await handle.close();
  }
}

/** A base-128 varint at `pos` (up to 2^53), or null when the file ends inside it. */
async function readVarint(handle: FileHandle, pos: number, size: number): Promise<{ value: number; next: number } | null> {
  const bytes = await readAt(handle, pos, Math.min(10, size - pos));
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value += (bytes[i] & 0x7f) * 2 ** (7 * i);
    if (bytes[i] < 0x80) return { value, next: pos + i + 1 };
  }
  return null;
}

async function readAt(handle: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, pos + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}
