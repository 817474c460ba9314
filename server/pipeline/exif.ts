import { readFileSync } from 'node:fs';
import exifr from 'exifr';

/** What the daemon keeps of a photo's EXIF. */
export interface ExifSummary {
  /** EXIF orientation 1..8; 1 (upright) when absent or unreadable. */
  orientation: number;
  make?: string;
  model?: string;
  /** DateTimeOriginal as ISO-8601, when present and valid. */
  takenAt?: string;
}

/**
 * One options object for every parse: exifr caches the Options it builds in a Map keyed by the
 * object it is given, and never evicts, so a fresh literal per call leaked about 8 kB per image.
 * translateValues: false keeps Orientation numeric instead of exifr's prose ("Rotate 90 CW").
 */
const EXIF_OPTIONS = Object.freeze({
  pick: ['Orientation', 'Make', 'Model', 'DateTimeOriginal'],
  translateValues: false,
  reviveValues: true,
});

/**
 * Files up to this size, camera-sized frames, are read whole in one synchronous call and parsed
 * from memory; larger ones by exifr, which reads what it needs through the thread pool.
 */
const READ_WHOLE_BYTES = 1024 * 1024;

/**
 * Reads orientation, camera and capture time with exifr, from a file or an image in memory. Broken
 * or missing EXIF is not an error: the image is still worth storing, so it reads as upright with no
 * camera details. With the file's `bytes`, a small file is read whole synchronously: for the image
 * worker, whose event loop nothing else waits on, where exifr's several reads through the thread
 * pool cost a thread's wake-up each.
 */
export async function readExif(image: string | Buffer, bytes?: number): Promise<ExifSummary> {
  let tags: Record<string, unknown> | undefined;
  try {
    const input = typeof image === 'string' && bytes !== undefined && bytes <= READ_WHOLE_BYTES ? readFileSync(image) : image;
    tags = await exifr.parse(input, EXIF_OPTIONS);
  } catch {
    return { orientation: 1 };
  }
  if (!tags) return { orientation: 1 };
  const orientation = Number(tags.Orientation);
  const taken = tags.DateTimeOriginal;
  return {
    orientation: Number.isInteger(orientation) && orientation >= 1 && orientation <= 8 ? orientation : 1,
    make: cleanText(tags.Make),
    model: cleanText(tags.Model),
    takenAt: taken instanceof Date && !Number.isNaN(taken.getTime()) ? taken.toISOString() : undefined,
  };
}

function cleanText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Camera strings are NUL-padded; cap the length so a hostile tag cannot bloat the index.
  const text = value.replace(/\0+$/, '').trim().slice(0, 64);
  return text === '' ? undefined : text;
}
