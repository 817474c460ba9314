/**
 * What hostile requests cost the daemon (`npm run bench:hostile`; not part of `npm test`): for
 * each request of the review (an endless multipart part header, a chunked body past the limit,
 * deep JSON, a protobuf of empty fields, a foreign Origin), the status answered, the time, the
 * CPU the daemon spent and its RSS before, at peak and after, on a fresh daemon each; then how
 * long `/health` takes for one client while another holds 140 slow uploads.
 *
 *   node dist/scripts/bench-hostile.js [--daemon-dir DIR] [--repeat 3] [--tries 20] [--slow 140] [--only deep-json,slow]
 *
 * `--daemon-dir` names the checkout whose build (DIR/dist) is run, through its start wrapper as
 * the unit runs it: point it at a build of an older commit to measure "before". RSS is the
 * daemon's resident set plus its workers' private memory, as the other benches read it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isAlive, startDaemon, type DaemonProcess } from '../test/helpers/daemon-process';
import { daemonPid } from './load/allocator';
import { HOSTILE_CASES, holdSlowUploads, sendHostile, timedGet } from './load/hostile-requests';
import { describeMachine } from './load/machine';
import { formatTable, percentile } from './load/post-load';
import { readCpuSeconds, RssSampler, settledRss } from './load/rss-sampler';

/** Every hostile request gets this long to be answered. */
const REQUEST_LIMIT_MS = 120_000;
/** Each /health try gets this long. */
const HEALTH_LIMIT_MS = 5000;
/** RSS at rest: at least 3 s after the last request, until it stops falling, 15 s at most. */
const SETTLE = { minMs: 3000, quietMs: 1000, maxMs: 15_000 };

const { values: args } = parseArgs({
  options: {
    'daemon-dir': { type: 'string', default: join(__dirname, '..', '..') },
    repeat: { type: 'string', default: '3' },
    tries: { type: 'string', default: '20' },
    slow: { type: 'string', default: '140' },
    only: { type: 'string' },
  },
});
const DAEMON_DIR = resolve(args['daemon-dir']!);
const REPEAT = Number(args.repeat);
const TRIES = Number(args.tries);
const SLOW = Number(args.slow);
const ONLY = args.only?.split(',');
const out = (text: string): boolean => process.stdout.write(`${text}\n`);
const mb = (value: number): string => value.toFixed(1);

interface Running { daemon: DaemonProcess; pid: number; dataDir: string }

async function start(): Promise<Running> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pir-hostile-'));
  const daemon = await startDaemon(dataDir, { NODE: process.execPath }, [], ['sh', join(DAEMON_DIR, 'scripts', 'pi-image-receiver')]);
  return { daemon, pid: daemonPid(daemon.pid), dataDir };
}

async function stop(running: Running): Promise<void> {
  await Promise.race([running.daemon.stop(), new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (isAlive(running.pid)) process.kill(running.pid, 'SIGKILL');
  await rm(running.dataDir, { recursive: true, force: true });
}

async function hostileSection(): Promise<void> {
  out(`\n## Hostile requests (${REPEAT} of each, one after another, on a fresh daemon per kind; MiB)\n`);
  const rows: string[][] = [];
  for (const hostile of HOSTILE_CASES.filter((c) => !ONLY || ONLY.includes(c.key))) {
    process.stderr.write(`${hostile.key}...\n`);
    const running = await start();
    try {
      const config = await (await fetch(`${running.daemon.url}/config`)).json() as Record<string, unknown>;
      const before = await settledRss(running.pid, { ...SETTLE, minMs: 1000 });
      const cpuBefore = readCpuSeconds(running.pid, true);
      const sampler = new RssSampler(running.pid);
      sampler.start();
      const answers: string[] = [];
      const times: number[] = [];
      let sent = 0;
      for (let i = 0; i < REPEAT; i++) {
        const outcome = await sendHostile(running.daemon.url, hostile, config, REQUEST_LIMIT_MS);
        sent = Math.max(sent, outcome.sentBytes);
        times.push(outcome.ms);
        // A daemon that died answers no more: say so, and leave the rest of this kind out.
        if (!isAlive(running.pid)) {
          answers.push(`${outcome.answer}, then the daemon exited`);
          break;
        }
        answers.push(outcome.answer);
      }
      sampler.stop();
      const alive = isAlive(running.pid);
      const cpu = alive ? readCpuSeconds(running.pid, true) - cpuBefore : NaN;
      const after = alive ? await settledRss(running.pid, SETTLE) : NaN;
      const summary = [...new Set(answers)].map((answer) => `${answers.filter((a) => a === answer).length}x ${answer}`).join('; ');
      rows.push([hostile.label, summary, (sent / 2 ** 20).toFixed(2), percentile(times, 50).toFixed(0), alive ? (cpu / answers.length).toFixed(2) : '-',
        mb(before), mb(sampler.peak), alive ? mb(after) : 'daemon exited', alive ? mb((after - before) / answers.length) : '-']);
    } finally {
      await stop(running);
    }
  }
  out(formatTable(['request', 'answers', 'sent MiB', 'p50 ms', 'CPU s/req', 'RSS before', 'peak', 'after', 'growth/req'], rows));
}

async function slowClientSection(): Promise<void> {
  out(`\n## /health from 127.0.0.2 while 127.0.0.1 holds ${SLOW} slow uploads (${TRIES} tries, fresh connection each, ${HEALTH_LIMIT_MS / 1000} s cap)\n`);
  const running = await start();
  try {
    const quiet = await healthTries(running.daemon.url);
    // 1 KiB every 500 ms: twice the default minimum body rate, so only a connection cap can stop them.
    const slow = await holdSlowUploads(running.daemon.url, '127.0.0.1', SLOW, 1024, 500);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const held = `${slow.open()} held open, answered ${JSON.stringify(slow.answered())}, ${slow.closedSilently()} closed without an answer`;
    const loaded = await healthTries(running.daemon.url);
    slow.close();
    out(formatTable(['while', 'answered', 'median ms', 'max ms', 'failures'], [
      ['nothing else', ...quiet],
      [`${SLOW} slow uploads`, ...loaded],
    ]));
    out(`\nthe ${SLOW} slow uploads, 2 s after they opened: ${held}`);
    out(isAlive(running.pid) ? 'the daemon is still running' : 'the daemon exited');
  } finally {
    await stop(running);
  }
}

/** `TRIES` GETs of /health from 127.0.0.2, 100 ms apart: how many answered 200, median and max ms, failures by kind. */
async function healthTries(url: string): Promise<string[]> {
  const ok: number[] = [];
  const failures: Record<string, number> = {};
  for (let i = 0; i < TRIES; i++) {
    const result = await timedGet(url, '/health', '127.0.0.2', HEALTH_LIMIT_MS);
    if (result.status === 200) ok.push(result.ms);
    else {
      const kind = result.failure ?? String(result.status);
      failures[kind] = (failures[kind] ?? 0) + 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const figure = (value: number): string => (Number.isNaN(value) ? '-' : value.toFixed(1));
  return [`${ok.length}/${TRIES}`, figure(percentile(ok, 50)), figure(ok.length ? Math.max(...ok) : NaN),
    Object.entries(failures).map(([kind, n]) => `${n}x ${kind}`).join(', ') || 'none'];
}

async function main(): Promise<void> {
  if (!existsSync(join(DAEMON_DIR, 'dist', 'server', 'main.js'))) {
    throw new Error(`no build in ${DAEMON_DIR}/dist: run npx tsc -p . there first`);
  }
  out(`# pi-image-receiver: hostile requests and slow clients\n\n${describeMachine()}\ndaemon: ${DAEMON_DIR} (its start wrapper, defaults)`);
  if (!ONLY || ONLY.some((key) => key !== 'slow')) await hostileSection();
  if (!ONLY || ONLY.includes('slow')) await slowClientSection();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
