// Storage: stored images and the data disk.
import { AppError } from './app-error';

/** 404 for the latest image when none is stored (from `source`, when given). */
export function noImageYet(source?: string): AppError {
  return new AppError('not_found', source ? `No image from source ${source} yet` : 'No image stored yet');
}

/** 507 when the data disk is below min_free_disk_mb and retention has nothing left to remove. */
export function diskLow(freeMb: number, floorMb: number): AppError {
  return new AppError('insufficient_storage',
    `Only ${freeMb} MB are free on the data disk, below min_free_disk_mb (${floorMb}), and no image is left to remove`);
}

/** 507 for a write that found the disk full. */
export function diskFull(cause: unknown): AppError {
  return new AppError('insufficient_storage', 'The disk is full; the image was not stored', { cause });
}

/** 500 for a write the disk failed or refused, naming the errno `code`. */
export function diskFailed(code: string, cause: unknown): AppError {
  return new AppError('internal_error', `The disk failed (${code}); the image was not stored`, { cause });
}
