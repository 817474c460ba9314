import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** What hashing reads at a time. */
const HASH_CHUNK = 64 * 1024;

/**
 * Feeds `bytes` of `file` from `start` to the hashes through one reused buffer, so that hashing
 * a file allocates nothing per chunk (a stream's fresh chunks grow the heap of a small daemon).
 * Returns the bytes read.
 */
export async function hashFileRange(file: string, start: number, bytes: number, hashes: Hash[]): Promise<number> {
  const handle = await open(file, 'r');
  const buffer = Buffer.allocUnsafeSlow(Math.min(HASH_CHUNK, Math.max(1, bytes)));
  let done = 0;
  try {
    while (done < bytes) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, bytes - done), start + done);
      if (bytesRead === 0) break;
      for (const hash of hashes) hash.update(buffer.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return done;
}
