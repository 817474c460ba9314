import { AppError, diskFailed, diskFull } from '../errors';

/** The errno codes of a disk that is full, and of one that fails or refuses writes. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);
const FAILED = new Set(['EIO', 'EROFS']);

/**
 * libvips reports a failed write as text ("system error: No space left on device"), with no
 * errno: these are the C library's messages for the codes above.
 */
const LIBVIPS_MESSAGES: Array<[RegExp, string]> = [
  [/No space left on device/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Input\/output error/, 'EIO'],
  [/Read-only file system/, 'EROFS'],
];

/**
 * The errno code of a disk failure, read from a Node fs error's `code` or a libvips message;
 * undefined for any other error, such as a corrupt image.
 */
export function diskErrorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && (FULL.has(code) || FAILED.has(code))) return code;
  const message = err instanceof Error ? err.message : '';
  return LIBVIPS_MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
}

/**
 * A disk failure as the client should see it: 507 insufficient_storage when the disk is full,
 * 500 internal_error when it fails; undefined when `err` is not a disk failure.
 */
export function asDiskError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return undefined;
  const code = diskErrorCode(err);
  if (code === undefined) return undefined;
  return FULL.has(code)
    ? diskFull(err)
    : diskFailed(code, err);
}
