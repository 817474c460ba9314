import assert from 'node:assert/strict';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ImageStore, isImageId, type NewImage } from '../../../server/storage/image-store';
import { DirectorySync, fsyncCount } from '../../../server/atomic-write';

const image = (source = 'cam'): NewImage => ({
  source, width: 1, height: 1, bytes: 3, format: 'png', compression_level: 6,
  received_at: new Date().toISOString(), captured_at: null, processing_ms: 1,
  original: { width: 1, height: 1, format: 'png', bytes: 3, orientation: 1 }, rotated: false, resized: false,
});

describe('ImageStore', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'pir-store-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function addOne(store: ImageStore, source?: string) {
    const work = await store.createTempDir();
    await writeFile(join(work, 'out.png'), 'png');
    const record = await store.add(join(work, 'out.png'), image(source));
    await store.removeTempDir(work);
    return record;
  }

  it('gives unique, time-ordered, path-safe ids', async () => {
    const store = await ImageStore.open(dir);
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push((await addOne(store)).id);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, 20);
    assert.ok(ids.every(isImageId));
    assert.equal(isImageId('../../etc/passwd'), false);
  });

  it('reopens with the same index and cleans what a crash left', async () => {
    const store = await ImageStore.open(dir);
    const kept = await addOne(store, 'a');
    const images = join(dir, 'images');
    // What a crash at each moment of a write can leave behind:
    await writeFile(join(images, '.tmp-20261124T000000000-0000-abcd.png-123456'), 'half'); // PNG not yet renamed
    await writeFile(join(images, '20261124T000000001-0000-abcd.png'), 'png'); // renamed, metadata not yet written
    await writeFile(join(images, '.tmp-20261124T000000002-0000-abcd.json-654321'), '{"id":'); // an update half-written
    await writeFile(join(images, '20261124T000000004-0000-abcd.png'), 'png'); // renamed, and
    await writeFile(join(images, '20261124T000000004-0000-abcd.json'), ''); // its record named but its data lost to a power cut
    await writeFile(join(images, '20261124T000000003-0000-abcd.json'), '{"id":"20261124T000000003-0000-abcd"}'); // PNG gone
    await writeFile(join(dir, 'tmp', 'leftover'), 'upload');
    const reopened = await ImageStore.open(dir);
    assert.deepEqual(reopened.list({ limit: 10 }).images.map((i) => i.id), [kept.id]);
    assert.deepEqual((await readdir(images)).sort(), [`${kept.id}.json`, `${kept.id}.png`]);
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    // New ids still sort after the stored ones.
    const next = await addOne(reopened);
    assert.ok(next.id > kept.id);
  });

  it('keeps its totals as images are added, updated and removed, and reopens with the same', async () => {
    const store = await ImageStore.open(dir);
    const summed = (from: ImageStore) => {
      const images = from.list({ limit: 1000 }).images;
      return { count: images.length, bytes: images.reduce((sum, record) => sum + record.bytes, 0) };
    };
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await addOne(store)).id);
    assert.deepEqual(store.totals(), { count: 5, bytes: 15 });
    await store.update(ids[1], { bytes: 10 });
    await store.delete(ids[3]);
    await store.update(ids[3], { bytes: 100 });
    assert.deepEqual(store.totals(), { count: 4, bytes: 19 });
    assert.deepEqual(store.totals(), summed(store));
    const reopened = await ImageStore.open(dir);
    assert.deepEqual(reopened.totals(), { count: 4, bytes: 19 });
    await reopened.deleteAll();
    assert.deepEqual(reopened.totals(), { count: 0, bytes: 0 });
  });

  it('applies two updates of one record made at once over each other, in memory and on disk', async () => {
    const store = await ImageStore.open(dir);
    const { id } = await addOne(store);
    // What the hasher and the labels consumer each learn of a new image, at the same moment.
    await Promise.all([
      store.update(id, { signature: { phash: '0123456789abcdef', colors: '0123456789abcdef01234567' } }),
      store.update(id, { labels: [{ name: 'cat', score: 0.9, box: [0, 0, 1, 1] }] }),
    ]);
    for (const record of [store.get(id)!, (await ImageStore.open(dir)).get(id)!]) {
      assert.equal(record.signature?.phash, '0123456789abcdef');
      assert.equal(record.labels?.[0].name, 'cat');
    }
  });

  it('commits images together with one fsync of the folder for all who ask while one runs', async () => {
    const store = await ImageStore.open(dir);
    const before = fsyncCount();
    const records = await Promise.all(Array.from({ length: 6 }, () => addOne(store)));
    // Each image's PNG and record are flushed; the folder at most once per image, fewer when shared.
    const fsyncs = fsyncCount() - before;
    assert.ok(fsyncs >= 2 * 6 + 1 && fsyncs <= 3 * 6, `${fsyncs} fsyncs for 6 images`);
    const reopened = await ImageStore.open(dir);
    assert.deepEqual(reopened.list({ limit: 10 }).images.map((i) => i.id).sort(), records.map((r) => r.id).sort());

    // Asked five times at once: one fsync starts, and the four who asked while it ran share the next.
    const sync = new DirectorySync(join(dir, 'images'));
    const asked = fsyncCount();
    await Promise.all(Array.from({ length: 5 }, () => sync.sync()));
    assert.equal(fsyncCount() - asked, 2);
    // One who asks after they are done gets an fsync of its own.
    await sync.sync();
    assert.equal(fsyncCount() - asked, 3);
  });

  it('a failed directory fsync fails every commit it was to cover, and the next one tries again', async () => {
    const sync = new DirectorySync(join(dir, 'no-such-folder'));
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => sync.sync()));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    await assert.rejects(sync.sync(), { code: 'ENOENT' });
  });

  it('gives a stored upload\'s emptied temp folder to a later request, keeping four at most', async () => {
    const store = await ImageStore.open(dir);
    const folders = await Promise.all(Array.from({ length: 6 }, () => store.createTempDir()));
    for (const [i, folder] of folders.entries()) await writeFile(join(folder, 'body'), `upload ${i}`);
    for (const folder of folders) await store.releaseTempDir(folder);
    const tmp = join(dir, 'tmp');
    assert.deepEqual((await readdir(tmp)).sort(), folders.slice(0, 4).map((folder) => folder.slice(tmp.length + 1)).sort(), 'four kept, the others removed');
    const reused = await store.createTempDir();
    assert.ok(folders.slice(0, 4).includes(reused));
    assert.deepEqual(await readdir(reused), [], 'handed out empty');
    // A refused request's folder is removed, not kept.
    await writeFile(join(reused, 'body'), 'refused');
    await store.removeTempDir(reused);
    assert.equal((await readdir(tmp)).length, 3);
  });

  it('keeps the folder open from one directory fsync to the next, until closed', async () => {
    const images = (await ImageStore.open(dir)).imagesDir;
    /** This process's open descriptors on the images folder. */
    const openOnImages = async (): Promise<number> => {
      let count = 0;
      for (const fd of await readdir('/proc/self/fd')) if (await readlink(`/proc/self/fd/${fd}`).catch(() => '') === images) count++;
      return count;
    };
    const sync = new DirectorySync(images);
    await sync.sync();
    await sync.sync();
    assert.equal(await openOnImages(), 1, 'one descriptor, kept');
    await sync.close();
    assert.equal(await openOnImages(), 0);
    await sync.sync();
    assert.equal(await openOnImages(), 1, 'opened again by the next fsync');
    await sync.close();
  });
});
