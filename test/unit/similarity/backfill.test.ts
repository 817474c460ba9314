import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { postImage, startTestApp } from '../../helpers/test-app';
import { scene } from '../../helpers/scenes';

test('images stored before signatures are hashed in the background after a start', async () => {
  let app = await startTestApp();
  try {
    const ids: string[] = [];
    for (const seed of [401, 402]) {
      const res = await postImage(app, await scene(seed, 200, 150), '', 'image/png');
      ids.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
    }
    await app.deps.similarity.settled();
    const signed = app.deps.store.get(ids[0])!.signature!;
    // Make them look as an older version stored them.
    for (const id of ids) {
      const file = join(app.dataDir, 'images', `${id}.json`);
      const { signature: _dropped, ...record } = JSON.parse(await readFile(file, 'utf8'));
      await writeFile(file, JSON.stringify(record));
    }
    // The background hashing starts with the store: it may have hashed one by the time restart()
    // returns, so only its end is asserted; done counts the images it found unsigned at start.
    app = await app.restart();
    await app.deps.similarity.backfilled;
    assert.deepEqual(app.deps.similarity.backfill, { pending: 0, done: 2, failed: 0 });
    assert.equal(app.deps.similarity.index.size, 2);
    // The same signature as after the upload: both hash the stored PNG.
    assert.deepEqual(app.deps.store.get(ids[0])!.signature, signed);
    const onDisk = JSON.parse(await readFile(join(app.dataDir, 'images', `${ids[0]}.json`), 'utf8'));
    assert.deepEqual(onDisk.signature, signed);
    const res = await app.fetch(`/images/${ids[0]}/similar`);
    assert.deepEqual(((await res.json()) as { results: Array<{ image: { id: string } }> }).results.map((r) => r.image.id), [ids[1]]);
  } finally {
    await app.destroy();
  }
});
