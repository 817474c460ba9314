// Display: e-paper profiles.
import { AppError } from './app-error';

/** 404 for a display name no profile has; `known` lists the names that are (or says none are). */
export function displayNotFound(name: unknown, known: string): AppError {
  return new AppError('not_found', `No display named ${JSON.stringify(String(name).slice(0, 64))}; displays: ${known}`);
}
