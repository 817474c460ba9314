import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConsumerRunner } from '../../../server/consumers/consumer-runner';
import type { DurableConsumer } from '../../../server/store-events';
import { silentLogger } from '../../../server/log';
import { ImageStore, type StoredImage } from '../../../server/storage/image-store';

/** Polls `condition` every 10 ms for at most 10 s, so that a broken runner fails instead of hanging. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A consumer that records what it is handed; `gate`, when set, holds each image until opened. */
function recorder(delivery: DurableConsumer['delivery'] = 'each') {
  const seen: string[] = [];
  let failNext = 0;
  let gate: Promise<void> | undefined;
  const consumer: DurableConsumer = {
    name: 'recorder',
    delivery,
    async handle(image) {
      await gate;
      if (failNext > 0) {
        failNext--;
        throw new Error('broker unreachable');
      }
      seen.push(image.id);
    },
  };
  return {
    consumer, seen,
    failTimes(n: number) { failNext = n; },
    hold() {
      let open!: () => void;
      gate = new Promise((resolve) => { open = resolve; });
      return () => { gate = undefined; open(); };
    },
  };
}

describe('ConsumerRunner', () => {
  let dir: string;
  let store: ImageStore;
  let runners: ConsumerRunner[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-consumer-'));
    store = await ImageStore.open(dir);
    runners = [];
  });
  afterEach(async () => {
    for (const runner of runners) await runner.stop(1000);
    await rm(dir, { recursive: true, force: true });
  });

  /** Commits an image record to the store, settled unless told otherwise. */
  async function add(settle = true): Promise<StoredImage> {
    const work = await store.createTempDir();
    await writeFile(join(work, 'out.png'), 'png');
    const record = await store.add(join(work, 'out.png'), {
      source: 'cam', width: 1, height: 1, bytes: 3, format: 'png', compression_level: 6,
      received_at: new Date().toISOString(), captured_at: null, processing_ms: 1,
      original: { width: 1, height: 1, format: 'png', bytes: 3, orientation: 1 }, rotated: false, resized: false,
    });
    await store.removeTempDir(work);
    if (settle) store.settle([record.id]);
    return record;
  }

  async function open(consumer: DurableConsumer): Promise<ConsumerRunner> {
    const runner = await ConsumerRunner.open(consumer, store, dir, silentLogger);
    runners.push(runner);
    runner.start();
    return runner;
  }

  it('starts a new consumer at the newest image, then hands over every later one in commit order', async () => {
    const before = await add();
    const r = recorder();
    const runner = await open(r.consumer);
    assert.equal(runner.status().cursor, before.id);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await add()).id);
      runner.wake();
    }
    await until(() => runner.status().delivered === 5, 'five deliveries');
    assert.deepEqual(r.seen, ids);
    const status = runner.status();
    assert.equal(status.cursor, ids[4]);
    assert.equal(status.pending, 0);
    assert.equal(status.delivered, 5);
    assert.ok(status.last_success_at);
    // The cursor is on disk, for the next start, once the runner has stopped.
    await runner.stop(1000);
    assert.equal(JSON.parse(await readFile(join(dir, 'recorder.json'), 'utf8')).cursor, ids[4]);
  });

  it('never passes an image that is still being committed, even when a later one is already in', async () => {
    const r = recorder();
    const runner = await open(r.consumer);
    const first = await add(false);
    const second = await add();
    runner.wake();
    // The later image must wait for the earlier, unsettled one: a cursor past it would skip it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(r.seen, []);
    store.settle([first.id]);
    runner.wake();
    await until(() => r.seen.length === 2, 'both');
    assert.deepEqual(r.seen, [first.id, second.id]);
  });

  it('waits for an image whose files are still being written, though a later one is already listed', async () => {
    const r = recorder();
    const runner = await open(r.consumer);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let writes = 0;
    // The first image to take an id stalls writing its PNG, so it is not even listed yet.
    store.beforeWrite = async (step) => { if (step === 'png' && writes++ === 0) await gate; };
    const both = [add(), add()];
    await until(() => store.totals().count === 1, 'the later image listed');
    runner.wake();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(r.seen, [], 'the later image waits for the earlier id');
    release();
    const ids = (await Promise.all(both)).map((image) => image.id).sort();
    runner.wake();
    await until(() => r.seen.length === 2, 'both');
    assert.deepEqual(r.seen, ids);
  });

  it('retries the same image after a failure, recording the error, and moves on in order', async () => {
    const r = recorder();
    const runner = await open(r.consumer);
    r.failTimes(1);
    const a = await add();
    const b = await add();
    runner.wake();
    await until(() => runner.status().failures === 1, 'the failure');
    assert.equal(runner.status().last_error, 'broker unreachable');
    assert.equal(runner.status().pending, 2);
    // Wake cuts the back-off short, as a new upload does.
    runner.wake();
    await until(() => r.seen.length === 2, 'the retry');
    assert.deepEqual(r.seen, [a.id, b.id]);
  });

  it('with latest delivery, shows only the newest waiting image and counts the others as skipped', async () => {
    const r = recorder('latest');
    const runner = await open(r.consumer);
    const release = r.hold();
    const first = await add();
    runner.wake();
    await until(() => runner.status().busy, 'the first image at work');
    const waiting = [await add(), await add(), await add()];
    release();
    await until(() => r.seen.length === 2, 'the newest after the first');
    assert.deepEqual(r.seen, [first.id, waiting[2].id]);
    assert.equal(runner.status().skipped, 2);
    assert.equal(runner.status().pending, 0);
  });

  it('counts images removed before their turn as skipped, and resumes from its cursor after a restart', async () => {
    const r = recorder();
    const release = r.hold();
    const runner = await open(r.consumer);
    const a = await add();
    runner.wake();
    await until(() => runner.status().busy, 'a at work');
    const b = await add();
    const c = await add();
    const removed = await store.delete(b.id);
    runner.removed([removed!]);
    assert.equal(runner.status().skipped, 1);
    release();
    await until(() => r.seen.length === 2, 'a and c');
    assert.deepEqual(r.seen, [a.id, c.id]);
    await runner.stop(1000);
    // A new runner over the same state file: nothing to redo, and it goes on with what comes next.
    const d = await add();
    const again = recorder();
    const resumed = await open(again.consumer);
    assert.equal(resumed.status().cursor, c.id);
    assert.equal(resumed.status().skipped, 1);
    resumed.wake();
    await until(() => again.seen.length === 1, 'd');
    assert.deepEqual(again.seen, [d.id]);
  });
});
