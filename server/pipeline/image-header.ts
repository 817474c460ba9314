import sharp from 'sharp';
import { readFileHead, sniffImageFormat, type InputFormat } from './sniff';

/** What the header says of an image: all the estimate needs. */
export interface ImageHeader {
  format: InputFormat;
  width: number;
  height: number;
}

/**
 * Reads the format from the magic bytes and the dimensions from the header (no pixel is
 * decoded), for the estimate before an upload is queued. Null when the file is no image sharp can
 * read: the pipeline will refuse it with the right error, before decoding anything.
 */
export async function readImageHeader(file: string): Promise<ImageHeader | null> {
  const format = sniffImageFormat(await readFileHead(file));
  if (!format) return null;
  try {
    const { width, height } = await sharp(file, { limitInputPixels: false }).metadata();
    return width && height ? { format, width, height } : null;
  } catch {
    return null;
  }
}
