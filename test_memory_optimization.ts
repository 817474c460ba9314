/**
 * The memory test: runs the compiled daemon as a child process, posts a realistic workload of
 * photo-like JPEGs with enable_memory_optimization on and off, samples the daemon's RSS every
 * 50 ms and checks the documented bounds. Not part of `npm test` (it takes minutes and its
 * figures depend on the machine): run it with `npm run test:memory`.
 *
 *   node dist/test_memory_optimization.js [--modes on,off] [--allocator npm-start|unit|glibc|arena2|jemalloc] [--budget-mb 256]
 *
 * The daemon is started with `npm start` by default, and with memory_budget_mb 256: the budget it
 * has under the unit (MemoryHigh=256M), as this machine's automatic budget would be half its RAM.
 * Exits 1 when a bound is exceeded (the peak RSS above the budget among them) or an upload fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ALLOCATORS, allocatorLaunch, daemonPid, describeAllocator, type Allocator } from './scripts/load/allocator';
import { cachedPhotoJpegs, type WorkloadImage } from './scripts/load/photo-jpeg';
import { formatTable, percentile, postConfig, postImages, waitForHashing, type LoadResult } from './scripts/load/post-load';
import { readRssMb, readStatusMb, RssSampler, settledRss, workersEnded } from './scripts/load/rss-sampler';
import { measureLazyModuleCost } from './scripts/load/startup-cost';
import { runCeiling } from './scripts/load/ceiling';
import { DEFAULT_SETTINGS } from './server/settings';
import { startDaemon, type DaemonProcess } from './test/helpers/daemon-process';

/** The bounds with enable_memory_optimization on, in MiB (docs/benchmarks.md explains them). */
const BOUNDS = {
  /** RSS at rest after start, before any request, once V8 has shrunk its start-up heap. */
  idleMb: 65,
  /** How far above its baseline (at rest just before the bursts) RSS may stay once they are over. */
  settleMb: 20,
  /** 4 clients posting 12 MP JPEGs against 1 client, in images/s, where the budget has room for several. */
  clientsRatio: 1.6,
};

/** The target for RSS 15 s after `npm start`, before any request, in MiB: printed, measured against, not failed on. */
const IDLE_AFTER_START = { seconds: 15, targetMb: 60 };

/** Longest wait for the image worker to end after the last phase: its idle time, and some. */
const WORKER_WAIT_MS = (DEFAULT_SETTINGS.image_worker_idle_seconds + 30) * 1000;

/** The daemon's default longest side. */
const MAX_DIMENSION = 2000;
const SIZES: ReadonlyArray<[number, number]> = [[640, 480], [1920, 1080], [4056, 3040], [8000, 6000]];
/** Orientations cycled through each size: upright, and the two a camera held sideways writes. */
const ORIENTATIONS = [1, 6, 8];
/** Each phase stops handing out images after this long. */
const TIME_LIMIT_MS = 90_000;
/** The whole run is stopped, as a failure, after this long. */
const WATCHDOG_MS = 15 * 60_000;

let running: DaemonProcess | undefined;

interface Phase {
  name: string;
  concurrency: number;
  jobs: WorkloadImage[];
  /** Also time bare sharp on the same jobs just before, for a side-by-side ratio. */
  ceiling?: boolean;
}

/** Rounds of the 1-client and 4-client 12 MP phases, alternated, so that a noisy neighbour weighs on both. */
const ROUNDS = 3;

interface ModeReport {
  mode: 'on' | 'off';
  /** RSS {@link IDLE_AFTER_START} seconds after the daemon was started. */
  idleAfterStartMb: number;
  /** RSS at rest after start, before any request. */
  idleMb: number;
  /** RSS at rest after the mode was set, just before the first burst. */
  baselineMb: number;
  /** RSS at rest after the last burst. */
  settledMb: number;
  /** The private part of it (V8 heap, malloc); the rest is pages of the node binary and libvips. */
  settledAnonMb: number;
  phases: Array<{ phase: Phase; load: LoadResult; peakMb: number; ceilingSeconds?: number }>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    modes: { type: 'string', default: 'on,off' }, allocator: { type: 'string', default: 'npm-start' }, 'budget-mb': { type: 'string', default: '256' },
  } });
  const budgetMb = Number(values['budget-mb']);
  const allocator = values.allocator as Allocator;
  if (!ALLOCATORS.includes(allocator)) throw new Error(`--allocator must be one of ${ALLOCATORS.join(', ')}`);
  const modes = values.modes!.split(',') as Array<'on' | 'off'>;

  process.stdout.write('What each package loaded on first use adds to the daemon as it starts (MiB, after two GCs):\n');
  process.stdout.write(`${formatTable(['package (first use)', 'RSS', 'anon', 'file'], measureLazyModuleCost().map((c) =>
    [c.label, c.rssMb.toFixed(1), c.anonMb.toFixed(1), c.fileMb.toFixed(1)]))}\n\n`);
  process.stdout.write('generating the workload (cached in .cache/workload)...\n');
  const bySize = await Promise.all(SIZES.map(([w, h]) => cachedPhotoJpegs(w, h, ORIENTATIONS)));
  const hq = bySize[2];
  const phases: Phase[] = [
    { name: 'sequential, all sizes', concurrency: 1, jobs: bySize.flat() },
    ...Array.from({ length: ROUNDS }, (): Phase[] => [
      { name: '1 client, 12 MP', concurrency: 1, jobs: Array.from({ length: 12 }, (_, i) => hq[i % hq.length]), ceiling: true },
      { name: '4 clients, 12 MP', concurrency: 4, jobs: Array.from({ length: 12 }, (_, i) => hq[i % hq.length]), ceiling: true },
    ]).flat(),
    { name: '4 clients, all sizes', concurrency: 4, jobs: bySize.flat() },
  ];

  setTimeout(() => {
    process.stdout.write(`FAIL the run took longer than ${WATCHDOG_MS / 60_000} minutes\n`);
    running?.child.kill('SIGKILL');
    process.exit(1);
  }, WATCHDOG_MS).unref();
  const reports: ModeReport[] = [];
  for (const mode of modes) reports.push(await runMode(mode, phases, allocator, budgetMb));
  process.stdout.write(`\n${report(reports, allocator, budgetMb)}\n`);
  const problems = check(reports, budgetMb);
  for (const problem of problems) process.stdout.write(`FAIL ${problem}\n`);
  if (problems.length === 0) process.stdout.write('PASS every bound holds\n');
  process.exitCode = problems.length === 0 ? 0 : 1;
}

/**
 * Starts a fresh daemon, measures it at rest, switches the mode through POST /config as an
 * operator would, measures the baseline, runs every phase and measures what it settles back to.
 */
async function runMode(mode: 'on' | 'off', phases: Phase[], allocator: Allocator, budgetMb: number): Promise<ModeReport> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pir-memory-'));
  const launch = allocatorLaunch(allocator);
  const started = Date.now();
  const daemon = await startDaemon(dataDir, { ...launch.env, MEMORY_BUDGET_MB: String(budgetMb) }, [], launch.program);
  running = daemon;
  const pid = daemonPid(daemon.pid);
  try {
    await new Promise((resolve) => setTimeout(resolve, started + IDLE_AFTER_START.seconds * 1000 - Date.now()));
    const idleAfterStartMb = readRssMb(pid);
    process.stdout.write(`[${mode}] idle RSS ${IDLE_AFTER_START.seconds} s after start: ${idleAfterStartMb.toFixed(1)} MiB ` +
      `(RssAnon ${readStatusMb(pid, 'RssAnon').toFixed(1)}, RssFile ${readStatusMb(pid, 'RssFile').toFixed(1)}; target ${IDLE_AFTER_START.targetMb} MiB or less)\n`);
    process.stdout.write(`\n[${mode}] daemon pid ${pid}; waiting for RSS to settle at start\n`);
    const idleMb = await settledRss(pid);
    await postConfig(daemon.url, { enable_memory_optimization: mode === 'on' });
    const baselineMb = await settledRss(pid);
    const sampler = new RssSampler(pid, 50);
    const results: ModeReport['phases'] = [];
    const settings = { ...DEFAULT_SETTINGS, enable_memory_optimization: mode === 'on' };
    for (const phase of phases) {
      // Bare sharp in this process, as many at once as the daemon may run: what the machine gives now.
      await waitForHashing(daemon.url);
      const ceilingSeconds = phase.ceiling ? (await runCeiling(phase.jobs, phase.concurrency, settings, dataDir)).seconds : undefined;
      sampler.start();
      const load = await postImages(daemon.url, phase.jobs, { concurrency: phase.concurrency, timeLimitMs: TIME_LIMIT_MS });
      sampler.stop();
      results.push({ phase, load, peakMb: sampler.peak, ceilingSeconds });
      process.stdout.write(`[${mode}] ${phase.name}: ${load.stored.length} images in ${load.seconds.toFixed(1)} s, peak ${sampler.peak.toFixed(1)} MiB\n`);
    }
    // What the daemon gives back once its image worker has ended (image_worker_idle_seconds).
    const waitedMs = await workersEnded(pid, WORKER_WAIT_MS);
    process.stdout.write(`[${mode}] image worker ended ${(waitedMs / 1000).toFixed(1)} s after the last phase\n`);
    const settledMb = await settledRss(pid);
    return { mode, idleAfterStartMb, idleMb, baselineMb, settledMb, settledAnonMb: readStatusMb(pid, 'RssAnon'), phases: results };
  } finally {
    await daemon.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Images per second over every round of the named phase, of the daemon or of bare sharp. */
function rate(phases: ModeReport['phases'], name: string, of: 'daemon' | 'bare' = 'daemon'): number {
  const rounds = phases.filter((p) => p.phase.name === name);
  const images = rounds.reduce((sum, p) => sum + p.load.stored.length, 0);
  const seconds = rounds.reduce((sum, p) => sum + (of === 'daemon' ? p.load.seconds : p.ceilingSeconds ?? NaN), 0);
  return images / seconds;
}

/** 4 clients' images/s over one client's, posting 12 MP JPEGs, all rounds together. */
function scaling(phases: ModeReport['phases'], of: 'daemon' | 'bare' = 'daemon'): number {
  return rate(phases, '4 clients, 12 MP', of) / rate(phases, '1 client, 12 MP', of);
}

function report(reports: ModeReport[], allocator: Allocator, budgetMb: number): string {
  const mb = (value: number): string => value.toFixed(1);
  const phaseRows = reports.flatMap(({ mode, phases }) => phases.map(({ phase, load, peakMb }) => [
    mode, phase.name, String(load.stored.length), (load.stored.length / load.seconds).toFixed(2),
    percentile(load.latenciesMs, 50).toFixed(0), percentile(load.latenciesMs, 99).toFixed(0), mb(peakMb),
  ]));
  const modeRows = reports.map(({ mode, idleAfterStartMb, idleMb, baselineMb, settledMb, settledAnonMb, phases }) => [
    mode, mb(idleAfterStartMb), mb(idleMb), mb(baselineMb), mb(Math.max(...phases.map((p) => p.peakMb))), mb(settledMb), mb(settledAnonMb),
    mb(settledMb - baselineMb), scaling(phases).toFixed(2), scaling(phases, 'bare').toFixed(2),
  ]);
  return [
    `allocator: ${describeAllocator(allocator)}; memory_budget_mb ${budgetMb}; RSS in MiB, sampled every 50 ms`,
    '',
    formatTable(['optimization', 'phase', 'images', 'images/s', 'p50 ms', 'p99 ms', 'peak RSS'], phaseRows),
    '',
    formatTable(['optimization', `${IDLE_AFTER_START.seconds} s after start`, 'idle at start', 'baseline', 'peak', 'after settle', '(anon)', 'settle - baseline', '12 MP: 4 clients / 1', 'bare sharp: same'], modeRows),
  ].join('\n');
}

/** Every broken bound, failed upload or wrongly shaped result, as a sentence. */
function check(reports: ModeReport[], budgetMb: number): string[] {
  const problems: string[] = [];
  for (const { mode, idleMb, baselineMb, settledMb, phases } of reports) {
    for (const { phase, load } of phases) {
      const where = `[${mode}] ${phase.name}`;
      for (const failure of load.failures) problems.push(`${where}: ${failure}`);
      if (load.stored.length < phase.jobs.length) problems.push(`${where}: only ${load.stored.length} of ${phase.jobs.length} images stored`);
      for (const stored of load.stored) {
        const expected = storedSize(stored.job);
        if (stored.width !== expected[0] || stored.height !== expected[1]) {
          problems.push(`${where}: ${stored.job.name} stored as ${stored.width}x${stored.height}, expected ${expected.join('x')}`);
        }
      }
    }
    if (mode !== 'on') continue;
    if (idleMb >= BOUNDS.idleMb) problems.push(`idle RSS at start ${idleMb.toFixed(1)} MiB >= ${BOUNDS.idleMb} MiB`);
    const peakMb = Math.max(...phases.map((p) => p.peakMb));
    if (peakMb > budgetMb) problems.push(`peak RSS ${peakMb.toFixed(1)} MiB above the budget of ${budgetMb} MiB`);
    const ratio = scaling(phases);
    // Written so that a ratio that could not be measured (NaN) fails too.
    if (!(ratio >= BOUNDS.clientsRatio)) {
      problems.push(`4 clients posting 12 MP JPEGs got ${ratio.toFixed(2)}x one client's images/s (target ${BOUNDS.clientsRatio}x; ` +
        `bare sharp got ${scaling(phases, 'bare').toFixed(2)}x from the same rounds on this machine)`);
    }
    if (settledMb - baselineMb >= BOUNDS.settleMb) {
      problems.push(`RSS settled at ${settledMb.toFixed(1)} MiB, ${(settledMb - baselineMb).toFixed(1)} MiB above its baseline (bound ${BOUNDS.settleMb} MiB)`);
    }
  }
  return problems;
}

/** The upright size the daemon must store for `job` with the default max_image_dimension of 2000. */
function storedSize(job: WorkloadImage): [number, number] {
  const scale = Math.min(1, MAX_DIMENSION / Math.max(job.width, job.height));
  const [w, h] = [Math.round(job.width * scale), Math.round(job.height * scale)];
  // Orientations 5 to 8 store the picture turned a quarter; upright it is the other way round.
  return job.orientation >= 5 ? [h, w] : [w, h];
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
