import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAIN_JS } from '../helpers/daemon-process';
import { installFakeSystemdNotify, notifyCalls, waitUntil } from '../helpers/fake-systemd-notify';
import { jpegWithOrientation } from '../helpers/fixtures';

describe('the compiled daemon under a Type=notify unit', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'pir-notify-e2e-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reports READY=1 once listening, pings the watchdog, reports STOPPING=1 on SIGTERM, and logs nothing below LOG_LEVEL', async () => {
    const log = join(dir, 'calls.log');
    const env = {
      ...process.env, ...(await installFakeSystemdNotify(dir, log)),
      WATCHDOG_USEC: '200000', LOG_LEVEL: 'warn', JOURNAL_STREAM: '', HOST: '127.0.0.1', PORT: '0', DATA_DIR: join(dir, 'data'),
      // Off, as daemon-process.ts has them: where the models are installed, auto would label its images.
      LABELS: 'off',
    };
    const child = spawn(process.execPath, [MAIN_JS], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitUntil(async () => (await notifyCalls(log)).some((args) => args.includes('READY=1')), 'READY=1');
      const [ready] = await notifyCalls(log);
      assert.equal(ready[0], `--pid=${child.pid}`);
      const status = ready.find((arg) => arg.startsWith('STATUS='))!;
      const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(status)![1];
      // READY=1 came after listen: the daemon answers at the address it reported.
      assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: 'ok' });
      const upload = await fetch(`${url}/images?source=cam1`, { method: 'POST', body: await jpegWithOrientation(6), headers: { 'Content-Type': 'image/jpeg' } });
      assert.equal(upload.status, 201);
      await waitUntil(async () => (await notifyCalls(log)).filter((args) => args.includes('WATCHDOG=1')).length >= 2, 'two watchdog pings');
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      const calls = await notifyCalls(log);
      assert.deepEqual(calls.at(-1), [`--pid=${child.pid}`, 'STOPPING=1', 'STATUS=stopping']);
      assert.deepEqual(calls.filter((args) => args.includes('WATCHDOG=1'))[0], [`--pid=${child.pid}`, 'WATCHDOG=1']);
      // LOG_LEVEL=warn: the listening, request, stored and stopping lines are all info.
      assert.equal(output, '');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
