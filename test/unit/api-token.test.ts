import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadApiToken } from '../../server/api-token';

describe('loadApiToken', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-token-'));
    file = join(dir, 'api-token');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is off when neither the variable nor the file is there', async () => {
    assert.equal(await loadApiToken(undefined, file), undefined);
    assert.equal(await loadApiToken('', file), undefined);
  });

  it('reads a mode-600 file, without its trailing newline', async () => {
    await writeFile(file, 'from-the-file-0123456789\n', { mode: 0o600 });
    assert.deepEqual(await loadApiToken(undefined, file), { value: 'from-the-file-0123456789', origin: file });
  });

  it('prefers the API_TOKEN variable to the file', async () => {
    await writeFile(file, 'from-the-file-0123456789\n', { mode: 0o600 });
    assert.deepEqual(await loadApiToken('from-the-env-0123456789', file), { value: 'from-the-env-0123456789', origin: 'the API_TOKEN variable' });
  });

  it('refuses a file others may read, saying how to fix it', async () => {
    await writeFile(file, 'from-the-file-0123456789\n');
    await chmod(file, 0o644);
    await assert.rejects(loadApiToken(undefined, file), /mode 644.*chmod 600/);
    await chmod(file, 0o640);
    await assert.rejects(loadApiToken(undefined, file), /chmod 600/);
  });

  it('refuses a token too short or that cannot travel in a header, without echoing it', async () => {
    for (const bad of ['short', 'has a space in it 0123456789', 'naïve-token-0123456789']) {
      await assert.rejects(loadApiToken(bad, file), (err: Error) => /16 to 1024 visible ASCII/.test(err.message) && !err.message.includes(bad));
    }
    await writeFile(file, '\n', { mode: 0o600 });
    await assert.rejects(loadApiToken(undefined, file), /visible ASCII/);
  });
});
