import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProcessingQueue } from '../../../server/memory/processing-queue';
import { estimateWorkingSetMb, weighInput } from '../../../server/memory/working-set';
import { readImageHeader } from '../../../server/pipeline/image-header';
import { jpegWithOrientation, photoLike } from '../../helpers/fixtures';
import sharp from 'sharp';
import { openPipeline, type TestPipeline } from '../../helpers/test-pipeline';

describe('the working-set estimate in the upload path', () => {
  let pipeline: TestPipeline;
  before(async () => { pipeline = await openPipeline(); });
  after(() => pipeline.remove());

  /** Writes `bytes` as an upload in a fresh temp dir of the store. */
  async function upload(bytes: Buffer): Promise<{ dir: string; file: string }> {
    const dir = await pipeline.store.createTempDir();
    const file = join(dir, 'upload');
    await writeFile(file, bytes);
    return { dir, file };
  }

  it('reads the format and dimensions from the header, and null for what is no image', async () => {
    assert.deepEqual(await readImageHeader((await upload(await photoLike(300, 200, 'png'))).file), { format: 'png', width: 300, height: 200 });
    assert.deepEqual(await readImageHeader((await upload(await photoLike(120, 90, 'webp'))).file), { format: 'webp', width: 120, height: 90 });
    assert.equal(await readImageHeader((await upload(Buffer.from('not an image at all'))).file), null);
    const jpeg = await photoLike(400, 300);
    assert.equal(await readImageHeader((await upload(jpeg.subarray(0, 40))).file), null);
  });

  it('reads the header from the start a way in kept of the file, without reading the file again', async () => {
    const jpeg = await photoLike(320, 240);
    // No file at this path: the header can only come from the start handed over.
    const missing = join(pipeline.store.tempRoot, 'never-written');
    assert.deepEqual(await readImageHeader(missing, jpeg.subarray(0, 128 * 1024)), { format: 'jpeg', width: 320, height: 240 });
    assert.equal((await weighInput(missing, { max_image_dimension: 1920 }, jpeg)).header?.width, 320);
    await assert.rejects(readImageHeader(missing), { code: 'ENOENT' });
  });

  it('reads a JPEG\'s and a PNG\'s dimensions itself as sharp reads them, and a frame header past its first read through sharp', async () => {
    const progressive = await sharp(await photoLike(333, 222)).jpeg({ progressive: true }).toBuffer();
    const grey = await sharp(await photoLike(101, 77)).greyscale().jpeg().toBuffer();
    const interlaced = await sharp(await photoLike(90, 60, 'png')).png({ progressive: true }).toBuffer();
    // Two 64 KiB application segments put the frame header past the 128 KiB read.
    const big = await photoLike(64, 48);
    const segment = Buffer.concat([Buffer.from([0xff, 0xef, 0xff, 0xff]), Buffer.alloc(0xffff - 2, 0x20)]);
    const late = Buffer.concat([big.subarray(0, 2), segment, segment, big.subarray(2)]);
    for (const bytes of [await jpegWithOrientation(6, 96, 64), progressive, grey, interlaced, late]) {
      const { format, width, height } = await sharp(bytes).metadata();
      assert.deepEqual(await readImageHeader((await upload(bytes)).file), { format, width, height });
    }
  });

  it('hands the queue each upload\'s estimate before it is admitted', async () => {
    // The pipeline's own queue, watched: what each run() is asked to weigh.
    const costs: number[] = [];
    const run = ProcessingQueue.prototype.run;
    pipeline.queue.run = function <T>(this: ProcessingQueue, task: () => Promise<T>, costMb?: number): Promise<T> {
      costs.push(costMb ?? NaN);
      return run.call(this, task, costMb) as Promise<T>;
    };
    const receive = (files: string[], workDir: string) => pipeline.flow.receive({ files, workDir, source: 'test', capturedAt: null, receivedAt: new Date().toISOString() });
    const { dir, file } = await upload(await photoLike(800, 600));
    const { images: [stored] } = await receive([file], dir);
    assert.equal(stored.width, 800);
    const garbage = await upload(Buffer.from('GIF89a but nothing else'));
    await assert.rejects(receive([garbage.file], garbage.dir), { code: 'invalid_image' });
    const settings = pipeline.settings.get();
    assert.deepEqual(costs, [estimateWorkingSetMb({ format: 'jpeg', width: 800, height: 600 }, settings), 0]);
  });

  it('weighs a raw frame by its frame buffer, from its description alone', async () => {
    const settings = pipeline.settings.get();
    // 4056x3040 rgb8: a 35.3 MiB buffer, stored at 2000x1499 after a resize.
    const rgb = await weighInput({ file: '/nonexistent', raw: { encoding: 'rgb8', width: 4056, height: 3040 } }, settings);
    assert.ok(rgb.costMb > 35.3 && rgb.costMb < 35.3 + 40, String(rgb.costMb));
    assert.equal(rgb.header, null);
    const mono = await weighInput({ file: '/nonexistent', raw: { encoding: 'mono8', width: 4056, height: 3040 } }, settings);
    assert.ok(Math.abs(rgb.costMb - mono.costMb - (2 * 4056 * 3040) / 2 ** 20) < 0.01);
    assert.equal((await weighInput({ file: '/nonexistent', raw: { encoding: 'no-such', width: 4, height: 4 } }, settings)).costMb, 0);
  });
});
