// Similarity: perceptual-hash search and feature matching.
import { AppError, type FieldErrors } from './app-error';

/** 503 for a similarity search from an image the background hasher has not reached yet. */
export function notHashedYet(): AppError {
  return new AppError('busy', 'This image has not been hashed yet; older images are hashed in the background after a start',
    { headers: { 'Retry-After': '5' } });
}

/** 503 when a comparison runs and the waiting line is full. */
export function matcherBusy(): AppError {
  return new AppError('busy', 'A comparison is running and others wait; try again shortly', { headers: { 'Retry-After': '2' } });
}

/** 400 for posted feature sets, naming every bad field of `fields`. */
export function malformedFeatures(fields: FieldErrors): AppError {
  return new AppError('invalid_parameter', `Malformed features: ${Object.keys(fields).join(', ')}`, { fields });
}

/** 415 for a comparison of uploads that is not a multipart form. */
export function compareFormRequired(): AppError {
  return new AppError('unsupported_media_type', 'Expected multipart/form-data with image1 and image2');
}
