// Ingest: receiving an upload's body, and recognising and decoding the image in it.
import { AppError } from './app-error';

/** 413 for an upload past max_upload_bytes, declared or counted while it streams. */
export function uploadTooLarge(maxBytes: number, cause?: unknown): AppError {
  return new AppError('payload_too_large', `The upload is larger than max_upload_bytes (${maxBytes} bytes)`, { cause });
}

/** 413 for a multipart form with more files or fields than it may have. */
export function tooManyParts(maxFiles: number, maxFields: number, cause?: unknown): AppError {
  return new AppError('payload_too_large', `The form has too many parts; at most ${maxFiles} files and ${maxFields} fields`, { cause });
}

/** 400 for a multipart body the parser refused; its reason is cut to 200 characters. */
export function malformedMultipart(reason: string, cause?: unknown): AppError {
  return new AppError('invalid_parameter', `The multipart body is malformed: ${reason.slice(0, 200)}`, { cause });
}

/** 400 for a multipart form without a file in any of `fileFields`. */
export function noImageInForm(fileFields: readonly string[]): AppError {
  return new AppError('invalid_parameter',
    `The form has no image file; send it in a file field named ${fileFields.map((f) => `"${f}"`).join(' or ')}`);
}

/** 400 for a query that needs `count` images in `fields` and received another number. */
export function wrongImageCount(count: number, fields: readonly string[], received: number): AppError {
  return new AppError('invalid_parameter',
    `Expected ${count} image${count > 1 ? 's' : ''} (${fields.join(', ')}) but received ${received}`);
}

/** 400 for a raw body with no bytes at all. */
export function emptyRequestBody(): AppError {
  return new AppError('invalid_parameter', 'The request body is empty; send the image bytes as the body');
}

/** 400 for a client that hung up before its body ended. */
export function clientClosedEarly(): AppError {
  return new AppError('invalid_parameter', 'The client closed the connection before the body ended');
}

/** 415 for an upload file with no bytes. */
export function emptyUpload(): AppError {
  return new AppError('unsupported_media_type', 'The upload is empty');
}

/** 415 for bytes that are none of the image formats the daemon reads. */
export function notAnImage(): AppError {
  return new AppError('unsupported_media_type', 'The upload is not a JPEG, PNG, WebP, TIFF, GIF or AVIF/HEIF image');
}

/** 422 for an image whose header gives no width or height. */
export function imageWithoutDimensions(format: string): AppError {
  return new AppError('invalid_image', `The ${format} image has no dimensions`);
}

/** 413 for an image with more pixels than max_input_pixels, refused from its header. */
export function tooManyPixels(width: number, height: number, limit: number): AppError {
  return new AppError('too_many_pixels', `The image is ${width}x${height} = ${width * height} pixels; the limit is ${limit}`);
}

/**
 * 413 for an image whose processing needs more memory than the budget leaves beside the daemon
 * at rest: run anyway, it would take the service past its memory limit.
 */
export function overMemoryBudget(costMb: number, budget: { mb: number; origin: string }, restMb: number): AppError {
  return new AppError('too_many_pixels',
    `Processing this image needs about ${Math.ceil(costMb)} MB, more than the memory budget of ${budget.mb} MB (${budget.origin}) leaves beside the daemon at rest (about ${restMb} MB). `
    + 'Send it with fewer pixels or as JPEG, which decodes in far less memory than HEIF, AVIF, GIF or WebP; or raise memory_budget_mb together with the service\'s MemoryHigh and MemoryMax');
}

/** 422 for an image libvips cannot read or decode, with libvips's reason (without paths). */
export function undecodableImage(format: string, verb: 'read' | 'decoded', reason: string, cause?: unknown): AppError {
  return new AppError('invalid_image', `The ${format} image cannot be ${verb}: ${reason}`, { cause });
}
