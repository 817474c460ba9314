import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readExif } from '../../../server/pipeline/exif';
import { jpegWithOrientation } from '../../helpers/fixtures';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

describe('readExif memory', () => {
  it('keeps nothing per image: the heap after 2000 reads is about the heap after 200', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-exif-'));
    try {
      const file = join(dir, 'turned.jpg');
      await writeFile(file, await jpegWithOrientation(6, 64, 48));
      const read = async (times: number) => {
        for (let i = 0; i < times; i++) assert.equal((await readExif(file)).orientation, 6);
      };
      await read(200);
      const warm = heapAfterGc();
      await read(2000);
      const after = heapAfterGc();
      // exifr cached an Options object per options literal: 2000 reads kept about 16 MB.
      assert.ok(after / warm < 1.25, `heap grew from ${warm} to ${after} bytes`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
