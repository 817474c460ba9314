import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from '../atomic-write';
import type { RetentionStatus } from '../storage/retention';

const MB = 1024 * 1024;

/** Whether the daemon could store an upload now, and if not, why, one sentence each. */
export type Readiness = { status: 'ready' } | { status: 'not_ready'; reasons: string[] };

export interface ReadinessProbe {
  /** True while the store is still reading its index; such a daemon cannot answer reads right. */
  loading: () => boolean;
  /** Folders an upload writes into, by the name a reason gives them (no path: the route is public). */
  dirs: Readonly<Record<string, string>>;
  /** Free disk, stored bytes and min_free_disk_mb, as retention measures them. */
  retention: () => Promise<RetentionStatus>;
  /**
   * Tries a real write in `dir`. A permission check alone says nothing under root, where
   * permissions do not stop a write; a read-only or broken filesystem does. @default writeProbe
   */
  tryWrite?: (dir: string) => Promise<void>;
}

/**
 * Checks what an upload needs: a loaded store, writable folders, and free disk at or above
 * min_free_disk_mb or images retention could remove to get there.
 */
export async function checkReadiness(probe: ReadinessProbe): Promise<Readiness> {
  const reasons: string[] = [];
  if (probe.loading()) reasons.push('The image store is still loading its index');
  const tryWrite = probe.tryWrite ?? writeProbe;
  for (const [name, dir] of Object.entries(probe.dirs)) {
    try {
      await access(dir, constants.W_OK);
      await tryWrite(dir);
    } catch (err) {
      reasons.push(`Cannot write in the ${name}: ${(err as NodeJS.ErrnoException).code ?? 'write failed'}`);
    }
  }
  const disk = await probe.retention();
  const floor = disk.limits.min_free_disk_mb * MB;
  // Retention removes the oldest images before refusing an upload, so the disk is short only
  // when even removing every stored PNG would not lift it to the floor.
  if (floor > 0 && disk.free_disk_bytes !== null && disk.free_disk_bytes + disk.stored_bytes < floor) {
    reasons.push(`Only ${Math.floor(disk.free_disk_bytes / MB)} MB are free on the data disk, below min_free_disk_mb (${disk.limits.min_free_disk_mb}), `
      + `and removing all ${disk.stored_images} stored images would not free enough`);
  }
  return reasons.length === 0 ? { status: 'ready' } : { status: 'not_ready', reasons };
}

/** Writes and removes a small file; its prefix makes the store remove it at start should a crash leave it. */
export async function writeProbe(dir: string): Promise<void> {
  const path = join(dir, `${TEMP_PREFIX}ready-${randomBytes(4).toString('hex')}`);
  await writeFile(path, 'ready\n', { flag: 'wx' });
  await unlink(path);
}
