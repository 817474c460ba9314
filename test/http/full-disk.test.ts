import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { photoLike } from '../helpers/fixtures';
import { filesIn, form, jsonPost, postImage, startTestApp, type TestApp } from '../helpers/test-app';
import { mountTmpfs } from '../helpers/tmpfs';

interface Listed { images: Array<{ id: string; width: number; height: number; url: string }> }

const listIds = async (app: TestApp) => ((await (await app.fetch('/images?limit=1000')).json()) as Listed).images.map((i) => i.id);

async function assertError(res: Response, status: number, code: string): Promise<void> {
  const body = await res.json() as { error: { code: string; message: string } };
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error.code, code);
}

/** An fs error as Node raises it. */
function fsError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, write`), { code, errno: -1, syscall: 'write' });
}

describe('retention over HTTP', () => {
  it('keeps the newest max_stored_images and removes the files of the others', async () => {
    const app = await startTestApp({ settings: { max_stored_images: 2 } });
    try {
      const ids = [];
      for (let i = 0; i < 4; i++) {
        const res = await postImage(app, await photoLike(40 + i, 30), '', 'image/jpeg');
        assert.equal(res.status, 201);
        ids.push(((await res.json()) as Listed).images[0].id);
      }
      assert.deepEqual(await listIds(app), [ids[3], ids[2]]);
      assert.deepEqual(await filesIn(app.dataDir), ids.slice(2).flatMap((id) => [`images/${id}.json`, `images/${id}.png`]).sort());
      const status = await app.deps.retention.status();
      assert.deepEqual([status.removed_images, status.last_reason], [2, 'max_stored_images']);
    } finally {
      await app.destroy();
    }
  });

  it('answers 507 when the disk is below min_free_disk_mb and no image is left to remove', async () => {
    const app = await startTestApp();
    try {
      assert.equal((await postImage(app, await photoLike(40, 30))).status, 201);
      // No disk here has 16 TB free: the stored image goes first, then uploads are refused.
      const update = await app.fetch('/config', jsonPost({ min_free_disk_mb: 16_777_216 }));
      assert.equal(update.status, 200);
      await assertError(await postImage(app, await photoLike(40, 30)), 507, 'insufficient_storage');
      await assertError(await app.fetch('/upload', { method: 'POST', body: form([await photoLike(40, 30)], 'file') }), 507, 'insufficient_storage');
      assert.deepEqual(await filesIn(app.dataDir), []);
      assert.equal((await app.deps.retention.status()).refused_uploads, 2);
    } finally {
      await app.destroy();
    }
  });
});

describe('a disk that fails mid-write (injected in the store)', () => {
  for (const [step, code, status, errorCode] of [
    ['png', 'ENOSPC', 507, 'insufficient_storage'],
    ['record', 'ENOSPC', 507, 'insufficient_storage'],
    ['record', 'EDQUOT', 507, 'insufficient_storage'],
    ['png', 'EIO', 500, 'internal_error'],
    ['record', 'EIO', 500, 'internal_error'],
  ] as const) {
    it(`${code} while committing the ${step}: ${status}, no temp file, index untouched`, async () => {
      const app = await startTestApp();
      try {
        const kept = await postImage(app, await photoLike(40, 30));
        assert.equal(kept.status, 201);
        const before = { ids: await listIds(app), files: await filesIn(app.dataDir) };
        app.deps.store.beforeWrite = (at) => {
          if (at === step) throw fsError(code);
        };
        await assertError(await postImage(app, await photoLike(60, 40)), status, errorCode);
        // A multipart request of two images: the first is stored, the second fails, both go.
        let writes = 0;
        app.deps.store.beforeWrite = (at) => {
          if (at === step && ++writes === 2) throw fsError(code);
        };
        await assertError(await app.fetch('/images', { method: 'POST', body: form([await photoLike(30, 20), await photoLike(20, 30)]) }), status, errorCode);
        assert.deepEqual(await listIds(app), before.ids);
        assert.deepEqual(await filesIn(app.dataDir), before.files);
        app.deps.store.beforeWrite = undefined;
        assert.equal((await postImage(app, await photoLike(50, 40))).status, 201);
      } finally {
        await app.destroy();
      }
    });
  }
});

describe('a real full disk (a 2 MB tmpfs)', () => {
  it('removes the oldest images to keep min_free_disk_mb, and answers 507 when a write hits ENOSPC', async (t) => {
    const disk = await mountTmpfs(2048);
    if (!disk) return t.skip('cannot mount a tmpfs here (needs root); the injected errors above still run');
    let app: TestApp | undefined;
    try {
      app = await startTestApp({ dataDir: disk.dir, settings: { min_free_disk_mb: 1 } });
      // 44 kB JPEGs that become 250 kB PNGs: ten of them need more than the whole disk.
      const jpeg = await photoLike(400, 300);
      const acknowledged: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await postImage(app, jpeg);
        assert.equal(res.status, 201, await res.clone().text());
        acknowledged.push(((await res.json()) as Listed).images[0].id);
      }
      const listed = await listIds(app);
      assert.ok(listed.length >= 2 && listed.length < 10, `${listed.length} images kept`);
      // Oldest first: what is kept is the newest run of what was acknowledged.
      assert.deepEqual(listed, acknowledged.slice(-listed.length).reverse());
      assert.deepEqual(await filesIn(disk.dir), listed.flatMap((id) => [`images/${id}.json`, `images/${id}.png`]).sort());
      for (const id of listed) {
        const png: Buffer = Buffer.from(await (await app.fetch(`/images/${id}`)).arrayBuffer());
        const meta: sharp.Metadata = await sharp(png).metadata();
        assert.deepEqual([meta.width, meta.height], [400, 300]);
      }

      // Fill the disk behind the daemon's back, with no floor to defend it.
      await app.fetch('/config', jsonPost({ min_free_disk_mb: 0 }));
      const before = await filesIn(disk.dir);
      // Room for the upload but not for its PNG: libvips fails while encoding.
      await writeFile(join(disk.dir, 'filler'), Buffer.alloc(Math.max(0, (await disk.free()) - 120 * 1024)));
      await assertError(await postImage(app, jpeg), 507, 'insufficient_storage');
      // Not even room for the upload: the body cannot be written, raw or multipart.
      await writeFile(join(disk.dir, 'filler2'), Buffer.alloc(Math.max(0, (await disk.free()) - 16 * 1024)));
      await assertError(await postImage(app, jpeg), 507, 'insufficient_storage');
      await assertError(await app.fetch('/images', { method: 'POST', body: form([jpeg]) }), 507, 'insufficient_storage');
      assert.deepEqual(await listIds(app), listed);
      assert.deepEqual((await filesIn(disk.dir)).filter((f) => !f.startsWith('filler')), before);
    } finally {
      await app?.close();
      await disk.remove();
    }
  });
});
