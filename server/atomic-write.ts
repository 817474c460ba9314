import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of every temporary file this daemon writes, so start-up can find and remove leftovers. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Writes a file so that readers see either the old content or the whole new one, never a part:
 * write a temporary file beside it, fsync it, rename it over the target, fsync the directory.
 * @throws the underlying fs error (ENOSPC, EIO, ...) after removing the temporary file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncPath(dirname(path));
}

/** Moves an already-written file into place atomically and makes the rename durable. */
export async function commitFile(temp: string, path: string): Promise<void> {
  await fsyncPath(temp);
  await rename(temp, path);
  await fsyncPath(dirname(path));
}

/** A fresh temporary path beside `path`, carrying {@link TEMP_PREFIX}. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
}

/**
 * Flushes a file's data, or a directory's entries (create, rename, unlink), to the device.
 */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
