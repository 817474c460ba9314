import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../../../server/errors';
import { WORKER_START_MB } from '../../../server/memory/memory-budget';
import { ImageWorker } from '../../../server/workers/image-worker';
import { processImage } from '../../../server/pipeline/process-image';
import { DEFAULT_SETTINGS, type Settings } from '../../../server/settings';
import { isAlive } from '../../helpers/daemon-process';
import { closeColour, jpegWithOrientation, QUADRANT_COLOURS, quadrantColours } from '../../helpers/fixtures';

const UPRIGHT = [QUADRANT_COLOURS.topLeft, QUADRANT_COLOURS.topRight, QUADRANT_COLOURS.bottomLeft, QUADRANT_COLOURS.bottomRight];

/** Waits, in bounded steps, until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(condition(), what);
}

/** A live process's environment, as the kernel holds it. */
function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
}

describe('ImageWorker: the pipeline in a worker process', () => {
  let dir: string;
  let n = 0;
  let idleMs = 60_000;
  let images: ImageWorker;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-worker-'));
    images = new ImageWorker({ idleMs: () => idleMs, env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_ARENA_MAX: '2' } });
  });
  after(async () => {
    await images.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function input(bytes: Buffer): Promise<{ input: string; output: string }> {
    const file = join(dir, `in-${++n}`);
    await writeFile(file, bytes);
    return { input: file, output: join(dir, `out-${n}.png`) };
  }

  it('is not started before the first image, and counts what starting it will cost', () => {
    assert.equal(images.running, false);
    assert.equal(images.privateMb(), WORKER_START_MB);
  });

  it('turns an EXIF-6 JPEG upright in another process, as processImage does in this one', async () => {
    const settings: Settings = { ...DEFAULT_SETTINGS, max_image_dimension: 48 };
    const jpeg = await jpegWithOrientation(6, 96, 64);
    const inWorker = await input(jpeg);
    const result = await images.process(inWorker.input, inWorker.output, settings);
    assert.ok(images.running && images.pid !== process.pid, 'a worker process ran it');
    const { width, height, colours } = await quadrantColours(await sharp(inWorker.output).toBuffer());
    assert.deepEqual([width, height], [48, 32]);
    colours.forEach((colour, i) => assert.ok(closeColour(colour, UPRIGHT[i]), `quadrant ${i}: ${colour} vs ${UPRIGHT[i]}`));
    const here = await input(jpeg);
    assert.deepEqual(result, await processImage(here.input, here.output, settings));
    assert.deepEqual(await readFile(inWorker.output), await readFile(here.output), 'the same PNG, byte for byte');
    assert.ok(images.privateMb() > 0 && images.privateMb() !== WORKER_START_MB, 'its own memory is read from /proc');
  });

  it('takes images in memory sent together, each its own bytes, beside files', async () => {
    // Different sizes and orientations, so that a job handed another's bytes shows it.
    const jpegs = await Promise.all([[1, 96, 64], [6, 40, 30], [8, 200, 120], [3, 16, 16]].map(([orientation, width, height]) => jpegWithOrientation(orientation, width, height)));
    const file = await input(jpegs[0]);
    const results = await Promise.all([
      images.process({ bytes: jpegs[1] }, join(dir, 'mem-1.png'), DEFAULT_SETTINGS),
      images.process(file.input, file.output, DEFAULT_SETTINGS),
      images.process({ bytes: jpegs[2] }, join(dir, 'mem-2.png'), DEFAULT_SETTINGS),
      images.process({ bytes: jpegs[3] }, join(dir, 'mem-3.png'), DEFAULT_SETTINGS),
    ]);
    assert.deepEqual(results.map((result) => [result.original.bytes, result.original.orientation, result.width, result.height]), [
      [jpegs[1].length, 6, 40, 30], [jpegs[0].length, 1, 96, 64], [jpegs[2].length, 8, 200, 120], [jpegs[3].length, 3, 16, 16],
    ]);
    const here = await processImage({ bytes: jpegs[2] }, join(dir, 'here-2.png'), DEFAULT_SETTINGS);
    assert.deepEqual(await readFile(join(dir, 'mem-2.png')), await readFile(join(dir, 'here-2.png')), 'the same PNG, byte for byte');
    assert.deepEqual(results[2], here);
  });

  it("runs without the daemon's fixed mmap threshold, keeping the arena limit", () => {
    const environ = environOf(images.pid!);
    assert.equal(environ.some((entry) => entry.startsWith('MALLOC_MMAP_THRESHOLD_=')), false);
    assert.ok(environ.includes('MALLOC_ARENA_MAX=2'));
  });

  it('refuses as the pipeline does: the same AppError code, status and message', async () => {
    const big = await input(await jpegWithOrientation(1, 96, 64));
    await assert.rejects(images.process(big.input, big.output, { ...DEFAULT_SETTINGS, max_input_pixels: 1000 }), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'too_many_pixels');
      assert.equal(err.status, 413);
      assert.match(err.message, /96x64/);
      return true;
    });
    const text = await input(Buffer.from('not an image at all'));
    await assert.rejects(images.process(text.input, text.output, DEFAULT_SETTINGS), (err: unknown) => err instanceof AppError && err.code === 'unsupported_media_type');
  });

  it('keeps working through SIGTERM, which a service stop sends to every process of the daemon', async () => {
    const pid = images.pid!;
    process.kill(pid, 'SIGTERM');
    const job = await input(await jpegWithOrientation(3));
    await images.process(job.input, job.output, DEFAULT_SETTINGS);
    assert.equal(images.pid, pid, 'the same worker answered');
  });

  it('fails only the images in flight when the worker dies, and starts a new one for the next', async () => {
    const starts = images.starts;
    const job = await input(await jpegWithOrientation(1));
    const bytes = await jpegWithOrientation(6);
    const lost = images.process(job.input, job.output, DEFAULT_SETTINGS);
    const lostBytes = images.process({ bytes }, join(dir, 'lost.png'), DEFAULT_SETTINGS);
    process.kill(images.pid!, 'SIGKILL');
    await assert.rejects(lost, /image worker exited with SIGKILL/);
    await assert.rejects(lostBytes, /image worker exited with SIGKILL/);
    const next = await input(await jpegWithOrientation(8));
    const result = await images.process(next.input, next.output, DEFAULT_SETTINGS);
    assert.equal(result.original.orientation, 8);
    // The new worker's attachment pipe starts clean: an image in memory gets its own bytes.
    const inMemory = await images.process({ bytes: await jpegWithOrientation(6, 40, 30) }, join(dir, 'after.png'), DEFAULT_SETTINGS);
    assert.deepEqual([inMemory.original.orientation, inMemory.width, inMemory.height], [6, 40, 30]);
    assert.equal(images.starts, starts + 1);
  });

  it('runs the worker through the command given in place of node (--worker-exec, for an emulator)', async () => {
    const wrapped = new ImageWorker({ idleMs: () => 60_000, env: process.env, exec: ['/usr/bin/env', 'PIR_RAN_THROUGH=env', process.execPath] });
    try {
      const job = await input(await jpegWithOrientation(6));
      const result = await wrapped.process(job.input, job.output, DEFAULT_SETTINGS);
      assert.deepEqual([result.width, result.height, result.rotated], [96, 64, true]);
      assert.ok(environOf(wrapped.pid!).includes('PIR_RAN_THROUGH=env'), 'the worker was started by the command');
    } finally {
      await wrapped.close();
    }
  });

  it('ends the worker after idleMs without an image', async () => {
    idleMs = 100;
    const job = await input(await jpegWithOrientation(1));
    await images.process(job.input, job.output, DEFAULT_SETTINGS);
    const pid = images.pid!;
    await until(() => !images.running && !isAlive(pid), 'the idle worker was ended and its process is gone');
    assert.equal(images.privateMb(), WORKER_START_MB);
  });
});
