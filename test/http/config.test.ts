import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_SETTINGS } from '../../server/settings';
import { photoLike } from '../helpers/fixtures';
import { jsonPost, postImage, startTestApp } from '../helpers/test-app';

describe('runtime settings', () => {
  it('reads the defaults and answers an update as the original receiver did', async () => {
    const app = await startTestApp();
    try {
      assert.deepEqual(await (await app.fetch('/config')).json(), DEFAULT_SETTINGS);
      const res = await app.fetch('/config', jsonPost({ compression_quality: 9, max_image_dimension: 100 }));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        status: 'success',
        message: 'Configuration updated',
        config: { ...DEFAULT_SETTINGS, compression_quality: 9, max_image_dimension: 100 },
      });
      // It applies to the next image.
      const upload = await postImage(app, await photoLike(300, 200));
      const { images: [image] } = await upload.json() as { images: Array<{ url: string; compression_level: number }> };
      assert.equal(image.compression_level, 9);
      const meta = await sharp(Buffer.from(await (await app.fetch(image.url)).arrayBuffer())).metadata();
      assert.deepEqual([meta.width, meta.height], [100, 67]);
    } finally {
      await app.destroy();
    }
  });

  it('refuses a bad update whole, with a reason per field, and changes nothing', async () => {
    const app = await startTestApp();
    try {
      const res = await app.fetch('/config', jsonPost({ compression_quality: 12, max_image_dimension: 800, colour: 'red', enable_memory_optimization: 'yes' }));
      assert.equal(res.status, 400);
      const { error } = await res.json() as { error: { code: string; fields: Record<string, string> } };
      assert.equal(error.code, 'invalid_settings');
      assert.deepEqual(Object.keys(error.fields).sort(), ['colour', 'compression_quality', 'enable_memory_optimization']);
      assert.equal(error.fields.compression_quality, 'Expected integer between 0 and 9 for compression_quality but received 12 of type number');
      assert.deepEqual(await (await app.fetch('/config')).json(), DEFAULT_SETTINGS);
      for (const bad of ['{not json', '[1,2]', 'null']) {
        const r = await app.fetch('/config', jsonPost(bad));
        assert.equal(r.status, 400, bad);
        assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'invalid_settings');
      }
      const zeroQueue = await app.fetch('/config', jsonPost({ max_queue_length: 0 }));
      assert.equal(zeroQueue.status, 400);
    } finally {
      await app.destroy();
    }
  });

  it('refuses an operator-only setting with 403 forbidden_setting, naming it, and changes nothing', async () => {
    const app = await startTestApp({ settings: { id_log_file: '/var/lib/ids.log' } });
    try {
      const before = await (await app.fetch('/config')).json();
      const res = await app.fetch('/config', jsonPost({ id_log_file: '/etc/passwd', compression_quality: 1 }));
      assert.equal(res.status, 403);
      const body = (await res.json()) as { error: { code: string; message: string; fields: Record<string, string> } };
      assert.equal(body.error.code, 'forbidden_setting');
      assert.deepEqual(Object.keys(body.error.fields), ['id_log_file']);
      assert.deepEqual(await (await app.fetch('/config')).json(), before);
      assert.equal(app.deps.settings.get().compression_quality, 6);
      // The operator's value, from the settings layers, is shown and in force.
      assert.equal((before as { id_log_file: string }).id_log_file, '/var/lib/ids.log');
    } finally {
      await app.destroy();
    }
  });

  it('persists updates atomically and keeps them across a restart', async () => {
    let app = await startTestApp();
    try {
      await app.fetch('/config', jsonPost({ max_image_dimension: 1234 }));
      await app.fetch('/config', jsonPost({ enable_memory_optimization: false }));
      const saved = JSON.parse(await readFile(join(app.dataDir, 'settings.json'), 'utf8'));
      assert.deepEqual(saved, { max_image_dimension: 1234, enable_memory_optimization: false });
      app = await app.restart();
      const config = await (await app.fetch('/config')).json() as Record<string, unknown>;
      assert.equal(config.max_image_dimension, 1234);
      assert.equal(config.enable_memory_optimization, false);
    } finally {
      await app.destroy();
    }
  });

  it('keeps concurrent updates, none lost', async () => {
    const app = await startTestApp();
    try {
      await Promise.all([
        app.fetch('/config', jsonPost({ max_image_dimension: 1000 })),
        app.fetch('/config', jsonPost({ compression_quality: 1 })),
        app.fetch('/config', jsonPost({ max_queue_length: 5 })),
      ]);
      const saved = JSON.parse(await readFile(join(app.dataDir, 'settings.json'), 'utf8'));
      assert.deepEqual(saved, { max_image_dimension: 1000, compression_quality: 1, max_queue_length: 5 });
    } finally {
      await app.destroy();
    }
  });
});
