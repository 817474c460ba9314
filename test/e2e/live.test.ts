import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../helpers/daemon-process';

describe('the compiled daemon with live pages open', () => {
  let dataDir: string;
  before(async () => { dataDir = await mkdtemp(join(tmpdir(), 'pir-e2e-live-')); });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('ends the live streams on SIGTERM and stops cleanly, without waiting out the grace period', async () => {
    const daemon = await startDaemon(dataDir, { SHUTDOWN_GRACE_MS: '30000' });
    try {
      const streams = await Promise.all([1, 2].map(() => fetch(`${daemon.url}/events`)));
      for (const res of streams) assert.equal(res.status, 200);
      const ended = streams.map((res) => res.text());
      daemon.child.kill('SIGTERM');
      assert.deepEqual(await daemon.exited, { code: 0, signal: null });
      for (const text of await Promise.all(ended)) assert.match(text, /^event: stats$/m);
      assert.match(daemon.output(), /stopped cleanly/);
      assert.doesNotMatch(daemon.output(), /grace period/);
    } finally {
      await daemon.stop();
    }
  });
});
