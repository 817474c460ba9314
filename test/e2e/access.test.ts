import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { solidPng } from '../helpers/fixtures';
import { runDaemon, startDaemon } from '../helpers/daemon-process';

const TOKEN = 'e2e-token-0123456789abcdef';

describe('the daemon with an API token', () => {
  let dataDir: string;
  beforeEach(async () => { dataDir = await mkdtemp(join(tmpdir(), 'pir-e2e-access-')); });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  async function post(url: string, headers: Record<string, string> = {}): Promise<number> {
    const res = await fetch(`${url}/images`, { method: 'POST', body: await solidPng(8, 8), headers: { 'Content-Type': 'image/png', ...headers } });
    await res.arrayBuffer();
    return res.status;
  }

  it('takes it from API_TOKEN, says so without showing it, and needs it for uploads', async () => {
    const daemon = await startDaemon(dataDir, { API_TOKEN: TOKEN, LOG_LEVEL: 'debug' });
    try {
      assert.equal(await post(daemon.url), 401);
      assert.equal(await post(daemon.url, { Authorization: `Bearer ${TOKEN}` }), 201);
      assert.equal((await fetch(`${daemon.url}/images?access_token=${TOKEN}`)).status, 200);
      assert.match(daemon.output(), /access: changes need the API token from the API_TOKEN variable/);
      assert.ok(!daemon.output().includes(TOKEN));
    } finally {
      await daemon.stop();
    }
  });

  it('takes it from a mode-600 file in the data dir', async () => {
    await writeFile(join(dataDir, 'api-token'), `${TOKEN}\n`, { mode: 0o600 });
    const daemon = await startDaemon(dataDir, { API_TOKEN: '' });
    try {
      assert.equal(await post(daemon.url, { Authorization: `Bearer ${TOKEN}x` }), 401);
      assert.equal(await post(daemon.url, { Authorization: `Bearer ${TOKEN}` }), 201);
      assert.ok(daemon.output().includes(`from ${join(dataDir, 'api-token')}`));
    } finally {
      await daemon.stop();
    }
  });

  it('refuses to start when others may read the token file', async () => {
    await writeFile(join(dataDir, 'api-token'), `${TOKEN}\n`, { mode: 0o644 });
    const { code, output } = await runDaemon({ DATA_DIR: dataDir, API_TOKEN: '', PORT: '0', HOST: '127.0.0.1' }, []);
    assert.equal(code, 1);
    assert.equal(output.trim().split('\n').length, 1);
    assert.match(output, /chmod 600/);
    assert.ok(!output.includes(TOKEN));
  });

  it('is open, and says so, without a token', async () => {
    const daemon = await startDaemon(dataDir, { API_TOKEN: '' });
    try {
      assert.equal(await post(daemon.url), 201);
      assert.match(daemon.output(), /access: open, no API token set/);
    } finally {
      await daemon.stop();
    }
  });
});
