import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../../server/log';
import { SystemdNotifier } from '../../../server/monitoring/systemd-notify';
import { installFakeSystemdNotify, notifyCalls, notifyEvents, waitUntil } from '../../helpers/fake-systemd-notify';

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => { lines.push(`${level} ${message}`); };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

describe('SystemdNotifier', () => {
  let dir: string;
  let fake: NodeJS.ProcessEnv;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-notify-'));
    fake = await installFakeSystemdNotify(dir, join(dir, 'unused.log'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A fresh record file and an environment that finds the fake first on PATH. */
  function setup(extra: NodeJS.ProcessEnv = {}) {
    const log = join(dir, `calls-${n++}.log`);
    const env: NodeJS.ProcessEnv = { ...fake, FAKE_NOTIFY_LOG: log, ...extra };
    return { env, calls: () => notifyCalls(log), events: () => notifyEvents(log) };
  }

  it('does nothing, and runs nothing, without NOTIFY_SOCKET', async () => {
    const { env, calls } = setup({ NOTIFY_SOCKET: undefined, WATCHDOG_USEC: '100000' });
    const notifier = new SystemdNotifier({ env, pid: 4242, log: capturingLogger() });
    assert.equal(notifier.enabled, false);
    assert.equal(notifier.watchdogIntervalMs, undefined);
    await notifier.ready('listening');
    await notifier.stopping();
    await notifier.close();
    assert.deepEqual(await calls(), []);
  });

  it('sends READY=1 with a status and then STOPPING=1, in order, each as MAINPID', async () => {
    const { env, calls } = setup();
    const notifier = new SystemdNotifier({ env, pid: 4242, log: capturingLogger() });
    assert.equal(notifier.enabled, true);
    const ready = notifier.ready('listening on http://0.0.0.0:8000');
    const stopping = notifier.stopping();
    await Promise.all([ready, stopping]);
    assert.deepEqual(await calls(), [
      ['--pid=4242', 'READY=1', 'STATUS=listening on http://0.0.0.0:8000'],
      ['--pid=4242', 'STOPPING=1', 'STATUS=stopping'],
    ]);
  });

  it('pings the watchdog at half of WATCHDOG_USEC from the event loop, and stops when the loop hangs', async () => {
    const { env, calls } = setup({ WATCHDOG_USEC: '100000', WATCHDOG_PID: '4242' });
    const notifier = new SystemdNotifier({ env, pid: 4242, log: capturingLogger() });
    assert.equal(notifier.watchdogIntervalMs, 50);
    const pings = async () => (await calls()).filter((args) => args.includes('WATCHDOG=1')).length;
    try {
      await notifier.ready('up');
      await waitUntil(async () => (await pings()) >= 3, 'three watchdog pings');
      const before = await pings();
      // Hang the event loop for 20 watchdog intervals; at most the ping already in flight lands.
      const end = Date.now() + 1000;
      while (Date.now() < end) { /* a hung loop */ }
      await notifier.close();
      assert.ok((await pings()) - before <= 1, `pinged ${(await pings()) - before} times while the loop hung`);
      assert.deepEqual((await calls()).find((args) => args.includes('WATCHDOG=1')), ['--pid=4242', 'WATCHDOG=1']);
    } finally {
      await notifier.close();
    }
  });

  it('never runs two pings at once when systemd-notify is slow', async () => {
    const { env, events } = setup({ WATCHDOG_USEC: '20000', FAKE_NOTIFY_SLEEP: '0.2' });
    const notifier = new SystemdNotifier({ env, pid: 4242, log: capturingLogger() });
    try {
      await notifier.ready('up');
      await waitUntil(async () => (await events()).filter((e) => e === 'end').length >= 4, 'four finished calls');
    } finally {
      await notifier.close();
    }
    const seen = await events();
    // Strictly alternating start/end: no call started while another was running.
    seen.forEach((event, i) => assert.equal(event, i % 2 === 0 ? 'start' : 'end', seen.join(',')));
  });

  it('keeps no watchdog for another process (WATCHDOG_PID) or without WATCHDOG_USEC', () => {
    const other = new SystemdNotifier({ env: setup({ WATCHDOG_USEC: '100000', WATCHDOG_PID: '1' }).env, pid: 4242, log: capturingLogger() });
    const none = new SystemdNotifier({ env: setup().env, pid: 4242, log: capturingLogger() });
    assert.equal(other.watchdogIntervalMs, undefined);
    assert.equal(none.watchdogIntervalMs, undefined);
    assert.equal(other.enabled, true);
  });

  it('logs a missing or failing systemd-notify once, and its recovery, without throwing', async () => {
    const missingLog = capturingLogger();
    const missing = new SystemdNotifier({ env: { PATH: dir, NOTIFY_SOCKET: '/run/x' }, pid: 1, log: missingLog, command: 'no-such-notify' });
    await missing.ready('up');
    assert.equal(missingLog.lines.length, 1);
    assert.match(missingLog.lines[0], /^error cannot send READY=1 to systemd: no-such-notify not found on PATH/);

    const { env, calls } = setup({ FAKE_NOTIFY_FAIL: 'Failed to notify init system: Connection refused' });
    const log = capturingLogger();
    const failing = new SystemdNotifier({ env, pid: 7, log });
    await failing.ready('up');
    await failing.stopping();
    assert.equal((await calls()).length, 2);
    assert.deepEqual(log.lines, ['error cannot send READY=1 to systemd: systemd-notify exited with 3: Failed to notify init system: Connection refused']);
    delete env.FAKE_NOTIFY_FAIL;
    await failing.stopping();
    assert.deepEqual(log.lines.slice(1), ['info systemd notifications work again (STOPPING=1)']);
  });
});
