import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { objectKey, readSecret, s3SettingsFrom } from '../../../server/s3/s3-settings';
import { DEFAULT_SETTINGS, publicSettings } from '../../../server/settings';
import type { StoredImage } from '../../../server/storage/image-store';

const image = (source: string, captured_at: string | null): StoredImage => ({
  id: '0190aa00-0000-0000', source, width: 1, height: 1, bytes: 3, format: 'png', compression_level: 6,
  received_at: '2026-12-31T23:59:59.000Z', captured_at, processing_ms: 1,
  original: { width: 1, height: 1, format: 'png', bytes: 3, orientation: 1 }, rotated: false, resized: false,
});

describe('S3 settings', () => {
  it('is off without a bucket, and AWS\'s endpoint for the region without an endpoint', () => {
    assert.equal(s3SettingsFrom(DEFAULT_SETTINGS), undefined);
    const aws = s3SettingsFrom({ ...DEFAULT_SETTINGS, s3_bucket: 'cams', s3_region: 'eu-central-1' })!;
    assert.equal(aws.endpoint.href, 'https://s3.eu-central-1.amazonaws.com/');
  });

  it('fills the prefix from the capture date, else the receive date, in UTC, with a safe source', () => {
    assert.equal(objectKey('{source}/{yyyy}/{mm}/{dd}/', image('door', '2026-03-05T01:00:00+02:00'), 'png'), 'door/2026/03/04/0190aa00-0000-0000.png');
    assert.equal(objectKey('{source}/{yyyy}/{mm}/{dd}/', image('a b/c', null), 'json'), 'a_b_c/2026/12/31/0190aa00-0000-0000.json');
    assert.equal(objectKey('/pi1/', image('door', null), 'png'), 'pi1/0190aa00-0000-0000.png');
  });

  it('reads the secret from its file at each call, and never shows it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-s3-settings-'));
    try {
      const file = join(dir, 'secret');
      const settings = s3SettingsFrom({ ...DEFAULT_SETTINGS, s3_bucket: 'cams', s3_secret_access_key_file: file })!;
      assert.throws(() => readSecret(settings), (err: Error) => err.message.includes(file) && /ENOENT/.test(err.message));
      await writeFile(file, 'first\nignored\n');
      assert.equal(readSecret(settings), 'first');
      await writeFile(file, 'second\n');
      assert.equal(readSecret(settings), 'second');
      assert.equal(publicSettings({ ...DEFAULT_SETTINGS, s3_secret_access_key: 'top-secret' }).s3_secret_access_key, '********');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
