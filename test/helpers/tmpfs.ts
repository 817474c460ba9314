import { execFile } from 'node:child_process';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A small filesystem of its own, to fill up for real. */
export interface Tmpfs {
  dir: string;
  /** Bytes this process may still write there. */
  free(): Promise<number>;
  /** Unmounts it and removes the mount point. */
  remove(): Promise<void>;
}

/**
 * Mounts a tmpfs of `sizeKb` on a fresh folder; undefined where that is not allowed (not root,
 * or a container without CAP_SYS_ADMIN), so that the caller can skip and say why.
 */
export async function mountTmpfs(sizeKb: number): Promise<Tmpfs | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'pir-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
  } catch {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    async free() {
      const stats = await statfs(dir);
      return stats.bavail * stats.bsize;
    },
    async remove() {
      await run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
