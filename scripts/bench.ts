/**
 * The benchmark (`npm run bench`; not part of `npm test`). For each image size at 1 and 4
 * clients, with enable_memory_optimization on and off: the daemon's throughput, latency p50/p99,
 * peak RSS, page faults and mean stored PNG size, beside the same work done by bare sharp (the
 * ceiling) twice: in this process, under glibc as it comes, and in a child process under the
 * daemon's allocator settings, so that what the allocator costs and what the daemon itself costs
 * are told apart; and beside a durable floor, bare sharp behind the least an HTTP receiver that
 * answers once the image is on disk can do, so that what any such receiver pays and what the
 * daemon itself adds are told apart too. Also what a page fault costs on this machine, and what
 * each dependency costs at start-up.
 *
 * Then the RSS a 12 MP raw camera frame adds (`--raw-only` runs just that part).
 *
 *   node dist/scripts/bench.js [--modes on,off] [--allocator npm-start] [--rounds 1] [--sizes 4056x3040,...] [--budget-mb 256] [--raw-only]
 *
 * The daemon is started with `npm start` by default, and memory_budget_mb 256: its budget under
 * the unit (MemoryHigh=256M).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDaemon } from '../test/helpers/daemon-process';
import { processingConcurrency } from '../server/pipeline/sharp-tuning';
import { DEFAULT_SETTINGS, type Settings } from '../server/settings';
import { ALLOCATORS, allocatorEnv, allocatorLaunch, daemonPid, describeAllocator, type Allocator } from './load/allocator';
import { imageWorkerEnv } from '../server/workers/image-worker';
import { barePngBytes, CeilingProcess, runCeiling, type CeilingResult } from './load/ceiling';
import { DurableFloor } from './load/durable-floor';
import { describeMachine, pageFaultMicros } from './load/machine';
import { cachedPhotoJpegs, type WorkloadImage } from './load/photo-jpeg';
import { formatTable, percentile, postConfig, postImages, waitForHashing } from './load/post-load';
import { readCpuSeconds, readMinorFaults, RssSampler } from './load/rss-sampler';
import { measureStartupCost } from './load/startup-cost';
import { benchFrame } from './bench-frame';
import { measureRawFrameRss } from './load/raw-frame-rss';
import { addPhases, noPhases, phasesBetween, readPhases, type PhaseReading } from './load/upload-phases';
import { UPLOAD_PHASES } from '../server/monitoring/upload-cost';

/** Images per measurement, per size: enough for a p99 to mean something, few enough for minutes. */
const COUNTS: Record<string, number> = { '640x480': 32, '1920x1080': 16, '4056x3040': 12, '8000x6000': 8 };
const CLIENTS = [1, 4];
/** Upright, and the two orientations a camera held sideways writes. */
const ORIENTATIONS = [1, 6, 8];
/**
 * The targets for the Pi HQ camera's 12 MP: one client at 95% or more of bare sharp on one thread;
 * with optimization on, 4 clients at 1.6 times one client's images/s or more, the budget allowing.
 */
const TARGET = { size: '4056x3040', ratio: 0.95, clientsRatio: 1.6 };
/**
 * Uploads of a small photo that every contender gets before the figures, so that they are of a
 * daemon that has been running, as a service is: the daemon's JavaScript (HTTP, Koa, the flow, the
 * store) is still being optimized by V8 over its first few hundred uploads, and costs some 15-30% more
 * CPU per upload meanwhile (docs/benchmarks.md). Small, so that they take seconds whatever the sizes.
 */
const WARMUP = { width: 160, height: 120, uploads: 400 };
/** Camera-sized frames: the daemon's images/s against bare sharp's, side by side, with optimization on. */
const SMALL_TARGETS: Record<string, Record<number, number>> = { '640x480': { 1: 0.85, 4: 0.9 }, '1920x1080': { 1: 0.9, 4: 0.9 } };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      modes: { type: 'string', default: 'on,off' },
      allocator: { type: 'string', default: 'npm-start' },
      rounds: { type: 'string', default: '1' },
      sizes: { type: 'string', default: Object.keys(COUNTS).join(',') },
      'budget-mb': { type: 'string', default: '256' },
      'raw-only': { type: 'boolean', default: false },
    },
  });
  const budgetMb = values['budget-mb']!;
  const out = (text: string): boolean => process.stdout.write(`${text}\n`);
  if (values['raw-only']) return rawFrameSection(out);
  const allocator = values.allocator as Allocator;
  if (!ALLOCATORS.includes(allocator)) throw new Error(`--allocator must be one of ${ALLOCATORS.join(', ')}`);
  const rounds = Number(values.rounds);
  const sizes = values.sizes!.split(',');

  out(`# pi-image-receiver benchmark\n\n${describeMachine()}\nallocator: ${describeAllocator(allocator)}; memory_budget_mb ${budgetMb}`);
  out(`page fault (first touch of a fresh page): ${pageFaultMicros().toFixed(2)} µs\n`);
  out('## Start-up cost (fresh process, after two GCs; MiB, cumulative)\n');
  out(formatTable(['step', 'RSS', 'anon', 'file'], measureStartupCost().map((c) =>
    [c.label, c.rssMb.toFixed(1), c.anonMb.toFixed(1), c.fileMb.toFixed(1)])));

  process.stderr.write('generating the workload (cached in .cache/workload)...\n');
  const warmupImages = await cachedPhotoJpegs(WARMUP.width, WARMUP.height, ORIENTATIONS);
  const warmup = Array.from({ length: WARMUP.uploads }, (_, i) => warmupImages[i % warmupImages.length]);
  const workload = new Map<string, WorkloadImage[]>();
  for (const size of sizes) {
    const [w, h] = size.split('x').map(Number);
    workload.set(size, await cachedPhotoJpegs(w, h, ORIENTATIONS));
  }

  const rows: string[][] = [];
  const phaseRows: string[][] = [];
  const verdicts: string[] = [];
  for (const mode of values.modes!.split(',')) {
    const settings: Settings = { ...DEFAULT_SETTINGS, enable_memory_optimization: mode === 'on' };
    const dataDir = await mkdtemp(join(tmpdir(), 'pir-bench-'));
    const scratch = await mkdtemp(join(tmpdir(), 'pir-bench-ceiling-'));
    const launch = allocatorLaunch(allocator);
    const daemon = await startDaemon(dataDir, { ...launch.env, MEMORY_BUDGET_MB: budgetMb }, [], launch.program);
    // Bare sharp under the allocator settings the daemon's image worker runs with.
    const workerEnv = imageWorkerEnv({ ...process.env, ...allocatorEnv(allocator) });
    const sameAllocator = CeilingProcess.start(workerEnv);
    const floor = await DurableFloor.start(scratch, mode, workerEnv);
    try {
      await postConfig(daemon.url, { enable_memory_optimization: settings.enable_memory_optimization });
      const bench: Bench = { url: daemon.url, pid: daemonPid(daemon.pid), settings, scratch, rounds, sameAllocator, floor };
      process.stderr.write(`[${mode}] warming up: ${warmup.length} uploads of ${WARMUP.width}x${WARMUP.height} to each...\n`);
      await warmUp(bench, warmup);
      for (const size of sizes) {
        const images = workload.get(size)!;
        const jobs = Array.from({ length: COUNTS[size] ?? 8 }, (_, i) => images[i % images.length]);
        // Warm both up on this size, so that neither pays for first-time code paths in the figures.
        await runCeiling(images, 1, settings, scratch);
        await sameAllocator.run(images, 1, settings, scratch);
        await floor.run(images, 1);
        await postImages(daemon.url, images, { concurrency: 1, timeLimitMs: 120_000 });
        let single = NaN;
        for (const clients of CLIENTS) {
          process.stderr.write(`[${mode}] ${size} x${jobs.length}, ${clients} client(s)...\n`);
          const m = await measure(bench, jobs, clients);
          const ratio = m.ceiling.seconds / m.serverSeconds;
          const sameRatio = m.sameAllocator.seconds / m.serverSeconds;
          const floorRatio = m.floor.seconds / m.serverSeconds;
          const perImage = (total: number): string => (total / m.images).toFixed(0);
          rows.push([mode, size, String(clients), (m.images / m.serverSeconds).toFixed(2),
            percentile(m.latencies, 50).toFixed(0), percentile(m.latencies, 99).toFixed(0), m.peakMb.toFixed(1),
            Math.round(mean(m.storedBytes)).toString(), (m.images / m.ceiling.seconds).toFixed(2), percent(ratio), percent(sameRatio),
            (m.images / m.floor.seconds).toFixed(2), percent(floorRatio), perImage(1000 * m.floor.cpuSeconds),
            perImage(1000 * m.serverCpu), perImage(1000 * m.ceiling.cpuSeconds), percent(m.ceiling.cpuSeconds / m.serverCpu), (1000 * m.clientCpu / m.images).toFixed(1),
            perImage(m.serverFaults), perImage(m.sameAllocator.minorFaults), perImage(m.ceiling.minorFaults)]);
          const small = SMALL_TARGETS[size]?.[clients];
          if (small !== undefined && mode === 'on') {
            verdicts.push(`${ratio >= small ? 'meets' : 'MISSES'} target: ${size}, ${clients} client(s): ${percent(ratio)} of bare sharp's images/s ` +
              `(target ${percent(small)}; ${spread(m.roundRatios)} round by round); by CPU time ${percent(m.ceiling.cpuSeconds / m.serverCpu)}; the durable floor ` +
              `${percent(m.ceiling.seconds / m.floor.seconds)} of bare sharp, the daemon ${percent(floorRatio)} of the floor`);
          }
          if (clients === 1) phaseRows.push(phaseRow(mode, size, m));
          if (size === TARGET.size && clients === 1) {
            single = m.images / m.serverSeconds;
            verdicts.push(`${ratio >= TARGET.ratio ? 'meets' : 'MISSES'} target: optimization ${mode}, 1 client: ` +
              `${percent(ratio)} of bare sharp's throughput (target ${percent(TARGET.ratio)}); by CPU time ${percent(m.ceiling.cpuSeconds / m.serverCpu)}; ` +
              `${percent(sameRatio)} of bare sharp under the image worker's allocator settings (page faults per image: daemon and worker ${perImage(m.serverFaults)}, ` +
              `bare sharp ${perImage(m.sameAllocator.minorFaults)} under the same settings, ${perImage(m.ceiling.minorFaults)} under glibc as it comes)`);
          }
          if (size === TARGET.size && clients > 1) {
            const scaling = m.images / m.serverSeconds / single;
            verdicts.push(`${mode === 'off' ? 'for comparison' : scaling >= TARGET.clientsRatio ? 'meets target' : 'MISSES target'}: optimization ${mode}, ` +
              `${clients} clients: ${scaling.toFixed(2)}x one client's images/s (target ${TARGET.clientsRatio}x), peak RSS ${m.peakMb.toFixed(1)} MiB` +
              `${mode === 'on' ? ` against a budget of ${budgetMb} MiB` : ''}; ${percent(ratio)} of bare sharp with ${Math.min(clients, processingConcurrency(settings))} images at once`);
          }
        }
      }
    } finally {
      sameAllocator.stop();
      floor.stop();
      await daemon.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(scratch, { recursive: true, force: true });
    }
  }

  out('\n## Throughput and memory (daemon over HTTP vs bare sharp in-process, under glibc as it comes, and in a child process under the daemon\'s allocator settings)\n');
  out('"floor": bare sharp behind the least an HTTP receiver can do that answers once the PNG is durable (scripts/load/durable-floor-process.ts), posted to as the daemon is.\n');
  out(formatTable(['optimization', 'size', 'clients', 'images/s', 'p50 ms', 'p99 ms', 'peak RSS MiB',
    'mean PNG bytes', 'bare images/s', 'daemon/bare', 'daemon/bare same allocator', 'floor images/s', 'daemon/floor', 'floor CPU ms/img', 'daemon CPU ms/img', 'bare CPU ms/img', 'bare/daemon CPU', 'client CPU ms/img',
    'page faults/img', 'bare same allocator', 'bare'], rows));
  out(`\n${verdicts.join('\n')}`);

  out('\n## The daemon\'s own cost per image, by phase (1 client; CPU ms of the daemon process, wall ms in brackets)\n');
  out('Phases: body (admission, temp dir, the body to disk), header (read and weighed), queue (the wait for a slot), worker (the image ' +
    'worker\'s round trip, sharp\'s own work in the worker not counted), commit (the store\'s fsyncs and renames, retention, the observers), ' +
    'response (presenting and writing the answer). "daemon" is all the daemon process spent per image, hashing after the answer and ' +
    'HTTP parsing included; "worker" what the image worker spent, "bare" what bare sharp spent on the same image; "after the run" ' +
    'what the daemon spent once the run was over until its images were hashed for similarity (deferred past a burst, docs/similarity.md), ' +
    'the second of pause before hashing starts and the polling of /memory_status included; "fsyncs/img" those made during the run.\n');
  out(formatTable(['optimization', 'size', ...UPLOAD_PHASES, 'phases', 'daemon', 'worker', 'bare', 'after the run', 'fsyncs/img'], phaseRows));
  out(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  out('\n## Stored size: adaptive row filtering vs none (zlib level 6, mean over the orientations)\n');
  const sizeRows: string[][] = [];
  for (const [size, images] of workload) {
    const filtered = mean(await Promise.all(images.map((image) => barePngBytes(image, true))));
    const unfiltered = mean(await Promise.all(images.map((image) => barePngBytes(image, false))));
    sizeRows.push([size, Math.round(filtered).toString(), Math.round(unfiltered).toString(), (unfiltered / filtered).toFixed(2)]);
  }
  out(formatTable(['size', 'adaptive (stored)', 'unfiltered', 'unfiltered/adaptive'], sizeRows));

  out('\n## Display frame\n');
  out((await benchFrame()).join('\n'));
  await rawFrameSection(out);
}

async function rawFrameSection(out: (text: string) => boolean): Promise<void> {
  process.stderr.write('raw frames: 12 MP, one at a time...\n');
  out('\n## Raw camera frames: RSS added by one 12 MP (4056x3040) frame (daemon child, default settings)\n');
  out(`${describeMachine()}\n`);
  out(formatTable(['frame', 'body MiB', 'frame buffer MiB', 'settled RSS MiB', 'peak RSS MiB', 'added MiB', 'added/frame buffer', 'processing ms'],
    await measureRawFrameRss()));
}

interface Bench {
  url: string;
  pid: number;
  settings: Settings;
  scratch: string;
  rounds: number;
  /** Bare sharp under the daemon's allocator environment. */
  sameAllocator: CeilingProcess;
  floor: DurableFloor;
}

interface Measurement {
  images: number;
  /** The daemon's upload-cost counters over the runs. */
  phases: PhaseReading;
  /** CPU seconds of the daemon process alone, and of its image worker. */
  daemonCpu: number;
  workerCpu: number;
  /** CPU seconds the daemon spent after the runs until their images were hashed (similarity), deferred past a burst. */
  hashCpu: number;
  serverSeconds: number;
  serverCpu: number;
  serverFaults: number;
  /** CPU seconds this process spent while posting: the clients, and the RSS sampler every 50 ms. */
  clientCpu: number;
  /** Bare sharp in this process, glibc as it comes. */
  ceiling: CeilingResult;
  /** Bare sharp in a child process under the daemon's allocator environment. */
  sameAllocator: CeilingResult;
  /** The durable floor, posted to over HTTP. */
  floor: CeilingResult;
  /** Each round's daemon images/s over bare sharp's: their spread is the noise the figures carry. */
  roundRatios: number[];
  latencies: number[];
  storedBytes: number[];
  peakMb: number;
}

/**
 * Runs `jobs` through bare sharp (in this process, then under the daemon's allocator), then through
 * the durable floor and the daemon from `clients` clients, `rounds` times. They alternate, so that a noisy neighbour
 * weighs on all alike; CPU time and page faults are measured too, as they hardly move with the
 * neighbours.
 */
async function measure(bench: Bench, jobs: WorkloadImage[], clients: number): Promise<Measurement> {
  const none = (): CeilingResult => ({ seconds: 0, cpuSeconds: 0, minorFaults: 0 });
  const m: Measurement = { images: 0, phases: noPhases(), daemonCpu: 0, workerCpu: 0, hashCpu: 0, serverSeconds: 0, serverCpu: 0, serverFaults: 0, clientCpu: 0, ceiling: none(), sameAllocator: none(), floor: none(), roundRatios: [], latencies: [], storedBytes: [], peakMb: 0 };
  const sampler = new RssSampler(bench.pid, 50);
  for (let round = 0; round < bench.rounds; round++) {
    await waitForHashing(bench.url);
    const ceiling = await runCeiling(jobs, clients, bench.settings, bench.scratch);
    addCeiling(m.ceiling, ceiling);
    addCeiling(m.sameAllocator, await bench.sameAllocator.run(jobs, clients, bench.settings, bench.scratch));
    addCeiling(m.floor, await bench.floor.run(jobs, clients));
    const cpuBefore = readCpuSeconds(bench.pid, true);
    const faultsBefore = readMinorFaults(bench.pid, true);
    const daemonBefore = readCpuSeconds(bench.pid);
    const phasesBefore = await readPhases(bench.url);
    sampler.start();
    const clientBefore = process.cpuUsage();
    const load = await postImages(bench.url, jobs, { concurrency: clients, timeLimitMs: 300_000 });
    const client = process.cpuUsage(clientBefore);
    sampler.stop();
    m.clientCpu += (client.user + client.system) / 1e6;
    if (load.failures.length > 0) throw new Error(`uploads failed: ${load.failures.join('; ')}`);
    const serverCpu = readCpuSeconds(bench.pid, true) - cpuBefore;
    const daemonCpu = readCpuSeconds(bench.pid) - daemonBefore;
    addPhases(m.phases, phasesBetween(phasesBefore, await readPhases(bench.url)));
    m.serverCpu += serverCpu;
    m.daemonCpu += daemonCpu;
    m.workerCpu += serverCpu - daemonCpu;
    const hashBefore = readCpuSeconds(bench.pid);
    await waitForHashing(bench.url);
    m.hashCpu += readCpuSeconds(bench.pid) - hashBefore;
    m.serverFaults += readMinorFaults(bench.pid, true) - faultsBefore;
    m.serverSeconds += load.seconds;
    m.roundRatios.push(ceiling.seconds / load.seconds);
    m.images += jobs.length;
    m.latencies.push(...load.latenciesMs);
    m.storedBytes.push(...load.stored.map((s) => s.bytes));
    m.peakMb = Math.max(m.peakMb, sampler.peak);
  }
  return m;
}

/** One row of the phase table: CPU (wall) ms per image of each phase, the process totals, fsyncs per image. */
function phaseRow(mode: string, size: string, m: Measurement): string[] {
  const { phases } = m;
  const per = (seconds: number): string => (1000 * seconds / phases.images).toFixed(1);
  const sum = (by: Record<string, number>): number => Object.values(by).reduce((a, b) => a + b, 0);
  return [mode, size, ...UPLOAD_PHASES.map((phase) => `${per(phases.cpu[phase])} (${per(phases.wall[phase])})`),
    `${per(sum(phases.cpu))} (${per(sum(phases.wall))})`,
    (1000 * m.daemonCpu / m.images).toFixed(1), (1000 * m.workerCpu / m.images).toFixed(1), (1000 * m.ceiling.cpuSeconds / m.images).toFixed(1),
    (1000 * m.hashCpu / m.images).toFixed(1), (phases.fsyncs / m.images).toFixed(2)];
}

/** The same uploads, half from one client and half from four, to bare sharp both ways, the floor and the daemon. */
async function warmUp(bench: Bench, jobs: WorkloadImage[]): Promise<void> {
  for (const [i, clients] of CLIENTS.entries()) {
    const half = jobs.slice(i * jobs.length / CLIENTS.length, (i + 1) * jobs.length / CLIENTS.length);
    await runCeiling(half, clients, bench.settings, bench.scratch);
    await bench.sameAllocator.run(half, clients, bench.settings, bench.scratch);
    await bench.floor.run(half, clients);
    const load = await postImages(bench.url, half, { concurrency: clients, timeLimitMs: 120_000 });
    if (load.failures.length > 0) throw new Error(`warm-up uploads failed: ${load.failures.join('; ')}`);
  }
}

function addCeiling(total: CeilingResult, run: CeilingResult): void {
  total.seconds += run.seconds;
  total.cpuSeconds += run.cpuSeconds;
  total.minorFaults += run.minorFaults;
}

/** The lowest and highest of some ratios, as "80–90%". */
function spread(ratios: readonly number[]): string {
  return `${(100 * Math.min(...ratios)).toFixed(0)}–${percent(Math.max(...ratios))}`;
}

function percent(ratio: number): string {
  return `${(100 * ratio).toFixed(0)}%`;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
