import { z } from 'zod';
import { COCO_LABELS } from '../../image-labels';

/** Whole numbers as the API sends them (counts, bytes, pixels, milliseconds). */
export const integer = z.int();

const dateTime = z.string().meta({ format: 'date-time' });

/** An image record as the API shows it: the stored facts plus where to fetch the PNG. */
export const ImageRecordSchema = z.strictObject({
  id: z.string(),
  source: z.string(),
  url: z.string(),
  width: integer,
  height: integer,
  bytes: integer,
  format: z.literal('png'),
  compression_level: integer,
  received_at: dateTime,
  captured_at: dateTime.nullable(),
  processing_ms: integer,
  original: z.strictObject({
    width: integer, height: integer, format: z.string(), bytes: integer, orientation: z.int().min(1).max(8),
  }),
  rotated: z.boolean(),
  resized: z.boolean(),
  exif: z.strictObject({ make: z.string().optional(), model: z.string().optional(), taken_at: z.string().optional() }).optional(),
  options: z.record(z.string(), z.unknown()).optional().describe('Per-request options sent with the image'),
  signature: z.strictObject({ phash: z.string().regex(/^[0-9a-f]{16}$/), colors: z.string().regex(/^[0-9a-f]{24}$/) }).optional()
    .describe('64-bit DCT perceptual hash and the mean RGB of each quarter'),
  labels: z.array(z.strictObject({
    name: z.enum(COCO_LABELS), score: z.number().min(0).max(1), box: z.tuple([integer, integer, integer, integer]).describe('x, y, width, height in the stored image\'s pixels'),
  })).optional().describe('Objects found by the labels consumer, best first; absent until it has looked'),
});

/** An image record as the API shows it. */
export type ImageRecord = z.infer<typeof ImageRecordSchema>;

/** GET /images: a page, newest first, and the cursor of the next (null on the last page). */
export const ImagePageSchema = z.strictObject({ images: z.array(ImageRecordSchema), next: z.string().nullable() });

/** An upload not stored because it repeats a stored image; absent when there is none. */
const duplicates = z.array(z.strictObject({ duplicate_of: z.string(), distance: z.number() })).optional();

/** POST /images: 201 with every stored image of the request. */
export const UploadCreatedSchema = z.strictObject({ images: z.array(ImageRecordSchema), duplicates });

/** POST /upload: the original receiver's answer, plus the records. */
export const UploadSuccessSchema = z.strictObject({ status: z.literal('success'), images: z.array(ImageRecordSchema), duplicates });

/** DELETE /images?confirm=all: how many images were removed. */
export const DeletedAllSchema = z.strictObject({ deleted: integer });
