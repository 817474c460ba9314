import { open, type FileHandle } from 'node:fs/promises';
import { malformedMessage, type AppError } from '../errors';

/** Where one field's bytes lie in a file. */
export interface FileRegion {
  offset: number;
  length: number;
}

/** A protobuf message split in two: every field but one, in memory, and that one's place on disk. */
export interface ScannedMessage {
  /** The message without the set-aside field: itself a valid message of the same type. */
  head: Buffer;
  /** The set-aside field's bytes, or null when the message has none. */
  field: FileRegion | null;
}

/** The fields of an image message besides its pixels are small; more than this is not an image message. */
const MAX_HEAD_BYTES = 64 * 1024;

/** How much of the file one read takes: a message's small fields are read in one or two reads, not one read each. */
const READ_BYTES = 64 * 1024;

/**
 * Walks the top level of the protobuf message in `file` by its wire format (tags and lengths
 * only) and sets the length-delimited field `fieldNumber` aside: its bytes stay on disk and only
 * the rest is read. So an image message's pixels are never read into memory whole to be decoded,
 * and then copied: the pipeline reads them once, from their place in the file.
 *
 * The work is bounded by the message's small part: reads are buffered, everything but the
 * set-aside field is at most 64 KiB, and the set-aside field may appear once (protobuf would
 * take the last of many; a message that repeats its pixels is refused instead of walked).
 * @throws AppError invalid_parameter for a truncated or malformed message, naming `typeName`.
 */
export async function scanMessage(file: string, fieldNumber: number, typeName: string): Promise<ScannedMessage> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const reader = new BufferedReader(handle, size);
    const parts: Buffer[] = [];
    let headBytes = 0;
    let field: FileRegion | null = null;
    const malformed = (reason: string): AppError => malformedMessage(typeName, reason);
    for (let pos = 0; pos < size;) {
      const tag = await readVarint(reader, pos);
      if (!tag) throw malformed(`truncated tag at byte ${pos}`);
      const wireType = tag.value % 8;
      let end: number;
      let dataStart = tag.next;
      if (wireType === 0) {
        const value = await readVarint(reader, tag.next);
        if (!value) throw malformed(`truncated varint at byte ${tag.next}`);
        end = value.next;
      } else if (wireType === 1 || wireType === 5) {
        end = tag.next + (wireType === 1 ? 8 : 4);
      } else if (wireType === 2) {
        const length = await readVarint(reader, tag.next);
        if (!length) throw malformed(`truncated length at byte ${tag.next}`);
        dataStart = length.next;
        end = length.next + length.value;
      } else {
        throw malformed(`wire type ${wireType} at byte ${pos}`);
      }
      if (end > size) throw malformed(`a field at byte ${pos} runs past the end (${end} > ${size} bytes)`);
      if (wireType === 2 && Math.floor(tag.value / 8) === fieldNumber) {
        if (field) throw malformed(`field ${fieldNumber} appears more than once (again at byte ${pos})`);
        field = { offset: dataStart, length: end - dataStart };
      } else {
        headBytes += end - pos;
        if (headBytes > MAX_HEAD_BYTES) throw malformed(`more than ${MAX_HEAD_BYTES} bytes besides the image data`);
        parts.push(Buffer.from(await reader.bytes(pos, end - pos)));
      }
      pos = end;
    }
    return { head: Buffer.concat(parts), field };
  } finally {
    await handle.close();
  }
}

/** A base-128 varint at `pos` (up to 2^53), or null when the file ends inside it. */
async function readVarint(reader: BufferedReader, pos: number): Promise<{ value: number; next: number } | null> {
  const bytes = await reader.bytes(pos, 10);
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value += (bytes[i] & 0x7f) * 2 ** (7 * i);
    if (bytes[i] < 0x80) return { value, next: pos + i + 1 };
  }
  return null;
}

/** Reads a file in windows of {@link READ_BYTES}, so that many small fields cost few reads. */
class BufferedReader {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly handle: FileHandle, private readonly size: number) {}

  /** Up to `length` bytes at `pos` (fewer at the end of the file), valid until the next call. */
  async bytes(pos: number, length: number): Promise<Buffer> {
    const end = Math.min(pos + length, this.size);
    if (pos < this.windowStart || end > this.windowStart + this.window.length) {
      this.window = await readAt(this.handle, pos, Math.max(end - pos, Math.min(READ_BYTES, this.size - pos)));
      this.windowStart = pos;
    }
    return this.window.subarray(pos - this.windowStart, end - this.windowStart);
  }
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
