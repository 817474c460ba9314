import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '../../server/settings';
import { photoLike } from '../helpers/fixtures';
import { postImage, startTestApp } from '../helpers/test-app';

/**
 * Settings that would stop the daemon from working (no queue, no upload can fit, images of no
 * size) or smuggle something past the validation: each update is refused whole, nothing is
 * persisted, and the daemon keeps storing images.
 */
const DANGEROUS: Array<[string, string]> = [
  ['no queue at all', '{"max_queue_length": 0}'],
  ['a negative queue', '{"max_queue_length": -1}'],
  ['no upload can fit', '{"max_upload_bytes": 0}'],
  ['a 1-byte upload limit', '{"max_upload_bytes": 1}'],
  ['zero-pixel images', '{"max_image_dimension": 0}'],
  ['negative dimension', '{"max_image_dimension": -5}'],
  ['a dimension no Pi can hold', '{"max_image_dimension": 1000000000}'],
  ['no pixels allowed', '{"max_input_pixels": 0}'],
  ['infinity (1e400 parses as Infinity)', '{"max_queue_length": 1e400}'],
  ['a fraction', '{"max_image_dimension": 2000.5}'],
  ['a number as a string', '{"max_queue_length": "64"}'],
  ['a boolean as a string', '{"enable_memory_optimization": "false"}'],
  ['null', '{"max_upload_bytes": null}'],
  ['an object', '{"max_upload_bytes": {"valueOf": 0}}'],
  ['a prototype key', '{"__proto__": {"max_queue_length": 0}}'],
  ['a constructor key', '{"constructor": {"prototype": {"max_queue_length": 0}}}'],
  ['compression out of range', '{"compression_quality": 10}'],
  ['negative retention', '{"max_stored_images": -1}'],
  ['negative free-space floor', '{"min_free_disk_mb": -1}'],
  ['a fraction of a megabyte', '{"max_storage_mb": 0.5}'],
  ['one bad key among good ones', '{"compression_quality": 9, "max_queue_length": 0}'],
];

describe('settings that would break the daemon cannot be set at runtime', () => {
  it('refuses each one whole, persists nothing and keeps working', async () => {
    const app = await startTestApp();
    try {
      for (const [name, body] of DANGEROUS) {
        const res = await app.fetch('/config', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
        const answer = await res.json() as { error: { code: string; fields: Record<string, string> } };
        assert.equal(res.status, 400, name);
        assert.equal(answer.error.code, 'invalid_settings', name);
        assert.ok(Object.keys(answer.error.fields).length > 0, name);
      }
      assert.deepEqual(await (await app.fetch('/config')).json(), DEFAULT_SETTINGS);
      assert.deepEqual({ ...app.deps.settings.get() }, DEFAULT_SETTINGS);
      assert.ok(!(await readdir(app.dataDir)).includes('settings.json'), 'nothing persisted');
      assert.equal((await postImage(app, await photoLike(64, 48))).status, 201);
    } finally {
      await app.destroy();
    }
  });
});
