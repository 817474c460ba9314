import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { readExif } from '../../../server/pipeline/exif';

describe('readExif', () => {
  it('reads the same orientation, camera and capture time from a small file read whole as from exifr\'s own reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-exif-'));
    try {
      const file = join(dir, 'camera.jpg');
      const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
        .jpeg()
        .withMetadata({ orientation: 6 })
        .withExif({ IFD0: { Make: 'Acme', Model: 'Cam 1' }, IFD2: { DateTimeOriginal: '2026:12:06 10:11:12' } })
        .toBuffer();
      await writeFile(file, jpeg);
      const expected = { orientation: 6, make: 'Acme', model: 'Cam 1', takenAt: '2026-12-06T10:11:12.000Z' };
      assert.deepEqual(await readExif(file, jpeg.length), expected, 'read whole');
      assert.deepEqual(await readExif(file), expected, 'read by exifr');
      // A file past the size read whole is read by exifr, whatever size it is said to have.
      assert.deepEqual(await readExif(file, 64 * 1024 * 1024), expected);
      // Broken EXIF reads as upright with no camera, either way.
      const broken = join(dir, 'broken.jpg');
      await writeFile(broken, Buffer.concat([jpeg.subarray(0, 30), Buffer.alloc(200, 0xee)]));
      const read = await readExif(broken, 230);
      assert.deepEqual([read.orientation, read.make, read.model, read.takenAt], [1, undefined, undefined, undefined]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
