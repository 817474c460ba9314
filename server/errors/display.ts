// Display: e-paper profiles.
import { AppError, type FieldErrors } from './app-error';

/** 404 for a display name no profile has; `known` lists the names that are (or says none are). */
export function displayNotFound(name: unknown, known: string): AppError {
  return new AppError('not_found', `No display named ${JSON.stringify(String(name).slice(0, 64))}; displays: ${known}`);
}

/** 400 for a frame preview whose profile fields are bad, each named in `fields` by its query parameter. */
export function invalidPreview(fields: FieldErrors): AppError {
  return new AppError('invalid_parameter', `Invalid preview: ${Object.values(fields).join('; ')}`, { fields });
}
