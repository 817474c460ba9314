import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkReadiness, type ReadinessProbe } from '../../../server/monitoring/readiness';
import type { RetentionStatus } from '../../../server/storage/retention';

const MB = 1024 * 1024;

/** A retention status with `free` bytes free, `stored` bytes stored and a floor of `floorMb`. */
function disk(free: number | null, stored: number, floorMb: number): RetentionStatus {
  return {
    removed_images: 0, removed_bytes: 0, last_run_at: null, last_run_removed: 0, last_reason: null, refused_uploads: 0,
    free_disk_bytes: free, stored_images: stored > 0 ? 1 : 0, stored_bytes: stored,
    limits: { max_stored_images: 0, max_storage_mb: 0, min_free_disk_mb: floorMb },
  };
}

describe('checkReadiness', () => {
  const probe = (dir: string, more: Partial<ReadinessProbe> = {}): ReadinessProbe => ({
    loading: () => false, dirs: { 'data dir': dir }, retention: async () => disk(10 * MB, 0, 0), ...more,
  });

  it('is ready with a writable folder and no floor, and leaves no probe file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-ready-'));
    try {
      assert.deepEqual(await checkReadiness(probe(dir)), { status: 'ready' });
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('weighs free disk against the floor plus what retention could remove', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-ready-'));
    try {
      const at = async (free: number | null, stored: number) => (await checkReadiness(probe(dir, { retention: async () => disk(free, stored, 100) }))).status;
      assert.equal(await at(100 * MB, 0), 'ready');
      assert.equal(await at(100 * MB - 1, 0), 'not_ready');
      assert.equal(await at(60 * MB, 40 * MB), 'ready');
      assert.equal(await at(60 * MB, 40 * MB - 1), 'not_ready');
      // A disk that cannot be measured is not a reason: uploads are not refused for it either.
      assert.equal(await at(null, 0), 'ready');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives every reason at once: loading, a failed write, a short disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-ready-'));
    try {
      const failing = Object.assign(new Error('read-only file system'), { code: 'EROFS' });
      const result = await checkReadiness(probe(dir, {
        loading: () => true,
        tryWrite: async () => { throw failing; },
        retention: async () => disk(0, 0, 1),
      }));
      assert.equal(result.status, 'not_ready');
      assert.deepEqual(result.status === 'not_ready' && result.reasons.map((reason) => reason.split(':')[0].split(',')[0]), [
        'The image store is still loading its index',
        'Cannot write in the data dir',
        'Only 0 MB are free on the data disk',
      ]);
      assert.match(result.status === 'not_ready' ? result.reasons[1] : '', /EROFS$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
