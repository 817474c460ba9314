import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppError } from '../../../server/errors';
import { silentLogger } from '../../../server/log';
import { DEFAULT_SETTINGS, type Settings, type SettingsInput } from '../../../server/settings';
import { ImageStore, type StoredImage } from '../../../server/storage/image-store';
import { Retention, type RetentionOptions } from '../../../server/storage/retention';

const MB = 1024 * 1024;

describe('Retention', () => {
  let dir: string;
  let store: ImageStore;
  let settings: Settings;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-retention-'));
    store = await ImageStore.open(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** Stores an image whose record says it weighs `bytes`, its upload answered unless `settle` is false; returns its id. */
  async function add(bytes = 1000, settle = true): Promise<string> {
    const work = await store.createTempDir();
    await writeFile(join(work, 'out.png'), 'png');
    const record = await store.add(join(work, 'out.png'), {
      source: 'cam', width: 1, height: 1, bytes, format: 'png', compression_level: 6,
      received_at: new Date().toISOString(), captured_at: null, processing_ms: 1,
      original: { width: 1, height: 1, format: 'png', bytes, orientation: 1 }, rotated: false, resized: false,
    });
    await store.removeTempDir(work);
    if (settle) store.settle([record.id]);
    return record.id;
  }

  function retention(input: SettingsInput, freeBytes?: () => Promise<number>, more: Partial<RetentionOptions> = {}): Retention {
    settings = { ...DEFAULT_SETTINGS, min_free_disk_mb: 0, ...input };
    return new Retention({ store, settings: () => settings, log: silentLogger, freeBytes, ...more });
  }

  const listed = () => store.list({ limit: 1000 }).images.map((image) => image.id).reverse();
  const filesOf = async () => (await readdir(store.imagesDir)).sort();

  it('removes the oldest images past max_stored_images, with their files, and reports it', async () => {
    const removals: Array<readonly StoredImage[]> = [];
    const r = retention({ max_stored_images: 3 }, undefined, { removed: (images) => { removals.push(images); } });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await add(100 + i));
    await r.afterStore([ids[4]]);
    assert.deepEqual(listed(), ids.slice(2));
    assert.deepEqual(await filesOf(), ids.slice(2).flatMap((id) => [`${id}.json`, `${id}.png`]).sort());
    assert.equal(removals.length, 1);
    assert.deepEqual(removals[0].map((image) => image.id), ids.slice(0, 2));
    assert.equal(removals[0].reduce((sum, image) => sum + image.bytes, 0), 201);
    const status = await r.status();
    assert.equal(status.removed_images, 2);
    assert.equal(status.removed_bytes, 201);
    assert.equal(status.last_reason, 'max_stored_images');
    assert.equal(status.last_run_removed, 2);
    assert.ok(status.last_run_at && Date.parse(status.last_run_at) > 0);
    assert.deepEqual([status.stored_images, status.limits.max_stored_images], [3, 3]);
    assert.ok(status.free_disk_bytes! > 0, 'measured with statfs');
  });

  it('keeps within max_storage_mb by PNG bytes', async () => {
    const r = retention({ max_storage_mb: 1 });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await add(0.4 * MB));
    await r.afterStore([ids[3]]);
    assert.deepEqual(listed(), ids.slice(2));
    assert.equal((await r.status()).last_reason, 'max_storage_mb');
  });

  it('never removes the images just acknowledged, nor those of uploads not answered yet', async () => {
    const r = retention({ max_stored_images: 1 });
    const ids = [];
    // ids[0] is another upload's, stored but not answered yet.
    for (let i = 0; i < 4; i++) ids.push(await add(1000, i !== 0));
    await r.afterStore([ids[2], ids[3]]);
    assert.deepEqual(listed(), [ids[0], ids[2], ids[3]]);
    // Once answered, it goes at the next run.
    store.settle([ids[0]]);
    await r.afterStore([ids[3]]);
    assert.deepEqual(listed(), [ids[3]]);
  });

  it('frees space for min_free_disk_mb, then refuses with 507 when nothing is left to remove', async () => {
    // A 10 MB disk whose only content is the images.
    const diskBytes = 10 * MB;
    const freeBytes = async () => diskBytes - store.totals().bytes;
    const r = retention({ min_free_disk_mb: 6 }, freeBytes);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await add(2 * MB));
    await r.ensureSpace();
    // 4 MB free was below 6 MB: removing the oldest one is enough.
    assert.deepEqual(listed(), ids.slice(1));
    settings = { ...settings, min_free_disk_mb: 11 };
    await assert.rejects(r.ensureSpace(), (err: AppError) => err.code === 'insufficient_storage' && err.status === 507);
    assert.deepEqual(listed(), []);
    const status = await r.status();
    assert.equal(status.refused_uploads, 1);
    assert.equal(status.removed_images, 3);
    assert.equal(status.last_reason, 'min_free_disk_mb');
    assert.equal(status.free_disk_bytes, diskBytes);
  });

  it('does nothing when no limit is set, and checks no disk when min_free_disk_mb is 0', async () => {
    let measured = 0;
    const r = retention({}, async () => { measured++; return 0; });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await add());
    await r.ensureSpace();
    await r.afterStore([ids[2]]);
    assert.deepEqual(listed(), ids);
    assert.equal(measured, 0);
    assert.equal((await r.status()).last_run_at, null);
  });

  it('reads the free space again for each check near the floor, and at most every half second far above it', async () => {
    let measured = 0;
    let free = 300 * MB;
    const r = retention({ min_free_disk_mb: 100 }, async () => { measured++; return free; });
    await r.ensureSpace();
    await r.afterStore([]);
    assert.equal(measured, 2, 'within 256 MB of the floor, every check measures');
    free = 10_000 * MB;
    await r.ensureSpace();
    await r.afterStore([]);
    await r.ensureSpace();
    assert.equal(measured, 3, 'far above the floor, one reading serves the checks that follow it');
    await new Promise((resolve) => setTimeout(resolve, 550));
    await r.ensureSpace();
    assert.equal(measured, 4, 'a reading half a second old is taken again');
  });

  it('runs one at a time, so concurrent runs remove no more than needed', async () => {
    const r = retention({ max_stored_images: 2 });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await add());
    await Promise.all([r.afterStore([ids[5]]), r.afterStore([ids[4]]), r.afterStore([ids[5]])]);
    assert.deepEqual(listed(), ids.slice(4));
    assert.equal((await r.status()).removed_images, 4);
  });

  it('with local_retention until_forwarded, removes what every forwarder has, oldest first, and nothing else', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await add());
    let forwardedUpTo = ids[2];
    let pendingFrom = ids[4];
    const more = { isForwarded: (id: string) => id <= forwardedUpTo, isPending: (id: string) => id >= pendingFrom };
    await retention({ local_retention: 'keep' }, undefined, more).afterForwarded();
    assert.deepEqual(listed(), ids, 'keep removes nothing');
    const r = retention({ local_retention: 'until_forwarded' }, undefined, more);
    await r.afterForwarded();
    assert.deepEqual(listed(), ids.slice(3), 'the forwarded ones go');
    assert.equal((await r.status()).last_reason, 'forwarded');
    // Forwarded, but another consumer has not handled it yet: it stays until that one has.
    forwardedUpTo = ids[4];
    pendingFrom = ids[3];
    await r.afterForwarded();
    assert.deepEqual(listed(), ids.slice(3));
    pendingFrom = 'z';
    await r.afterForwarded();
    assert.deepEqual(listed(), []);
  });

  it('waits for durable consumers under max_stored_images, but not under a storage limit', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await add(0.4 * MB));
    // A consumer has handled ids[0] only.
    const isPending = (id: string) => id > ids[0];
    await retention({ max_stored_images: 1 }, undefined, { isPending }).afterStore([ids[3]]);
    assert.deepEqual(listed(), ids.slice(1), 'only the handled image went');
    await retention({ max_storage_mb: 1 }, undefined, { isPending }).afterStore([ids[3]]);
    assert.deepEqual(listed(), ids.slice(2), 'the storage limit removed an unhandled one too');
  });
});
