import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { startDaemon } from '../test/helpers/daemon-process';
import { jpegWithOrientation, photoLike } from '../test/helpers/fixtures';
import { readRssMb } from './load/rss-sampler';
import { allocatorLaunch, daemonPid, describeAllocator, type Allocator } from './load/allocator';
import { percentile, trend, withinNoise } from './soak-stats';

/**
 * `npm run soak`: the compiled daemon under steady load for a bounded time. Clients post a mix
 * of images while a poller reads what the dashboard reads; at the end every 201 must be listed
 * (or, past max_stored_images, removed oldest first), no answer may be a 5xx, and RSS must not
 * grow beyond its noise after the first minute.
 */
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '4' },
    'max-stored': { type: 'string', default: '500' },
    json: { type: 'string' },
    allocator: { type: 'string', default: 'npm-start' },
    'budget-mb': { type: 'string', default: '256' },
  },
});
const MINUTES = Number(args.minutes);
const CLIENTS = Number(args.clients);
const MAX_STORED = Number(args['max-stored']);
const POLL_PATHS = ['/health', '/images?limit=50', '/config', '/memory_status'];

interface Sample { kind: string; status: number; ms: number }
interface Upload { name: string; init: () => RequestInit }

async function uploadMix(): Promise<Upload[]> {
  const raw = (name: string, body: Buffer): Upload => ({ name, init: () => ({ method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream' } }) });
  const [big, turned, png, webp, small, a, b] = await Promise.all([
    photoLike(1920, 1080, 'jpeg', 1), jpegWithOrientation(6, 1280, 960), photoLike(800, 600, 'png', 2),
    photoLike(1024, 768, 'webp', 3), photoLike(640, 480, 'jpeg', 4), photoLike(320, 240, 'jpeg', 5), photoLike(240, 320, 'png', 6),
  ]);
  const form = (): FormData => {
    const body = new FormData();
    for (const bytes of [a, b]) body.append('image', new Blob([bytes]), 'x.jpg');
    return body;
  };
  return [
    raw('jpeg 1920x1080', big), raw('jpeg 1280x960 EXIF 6', turned), raw('png 800x600', png), raw('webp 1024x768', webp),
    raw('jpeg 640x480', small), { name: 'multipart 2 images', init: () => ({ method: 'POST', body: form() }) },
    raw('truncated jpeg (422 expected)', big.subarray(0, big.length >> 1)),
  ];
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pir-soak-'));
  // Started as a user starts it (npm start, through the wrapper) with the unit's budget, by default.
  const launch = allocatorLaunch(args.allocator as Allocator);
  const daemon = await startDaemon(dataDir, { ...launch.env, MAX_STORED_IMAGES: String(MAX_STORED), MEMORY_BUDGET_MB: args['budget-mb'] }, [], launch.program);
  const pid = daemonPid(daemon.pid);
  const started = Date.now();
  const deadline = started + MINUTES * 60_000;
  const samples: Sample[] = [];
  const acknowledged: string[] = [];
  const rss: Array<{ t: number; y: number }> = [];
  const load = loadavg();
  const timed = async (kind: string, path: string, init?: RequestInit): Promise<Response> => {
    const t0 = performance.now();
    const res = await fetch(`${daemon.url}${path}`, init);
    const body = await res.arrayBuffer();
    samples.push({ kind, status: res.status, ms: performance.now() - t0 });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  try {
    const mix = await uploadMix();
    const client = async (n: number): Promise<void> => {
      for (let i = n; Date.now() < deadline; i++) {
        const res = await timed('upload', `/images?source=soak-${n}`, mix[i % mix.length].init());
        if (res.status === 201) acknowledged.push(...((await res.json()) as { images: Array<{ id: string }> }).images.map((image) => image.id));
      }
    };
    const poller = async (): Promise<void> => {
      const paths = [...POLL_PATHS];
      for (let i = 0; Date.now() < deadline; i++) {
        const path = paths[i % paths.length];
        // /memory_status comes with the monitoring work; until then it is skipped.
        if ((await timed('poll', path)).status === 404 && path === '/memory_status') paths.splice(paths.indexOf(path), 1);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    const sampler = setInterval(() => rss.push({ t: Date.now() - started, y: rssKb(pid) }), 5000);
    await Promise.all([...Array.from({ length: CLIENTS }, (_, n) => client(n)), poller()]);
    clearInterval(sampler);
    const verdict = await verify(daemon.url, acknowledged);
    const report = summarize(samples, rss, verdict, acknowledged.length, load);
    process.stdout.write(`${report.text}\n`);
    if (args.json) await writeFile(args.json, `${JSON.stringify(report.figures, null, 2)}\n`);
    process.exitCode = report.pass ? 0 : 1;
  } finally {
    await daemon.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Every acknowledged image is listed, whole, unless retention removed it, oldest first. */
async function verify(url: string, acknowledged: string[]): Promise<{ ok: boolean; listed: number; problems: string[] }> {
  const listed: Array<{ id: string; width: number; height: number; bytes: number }> = [];
  for (let before = ''; ;) {
    const page = await (await fetch(`${url}/images?limit=1000${before}`)).json() as { images: typeof listed; next: string | null };
    listed.push(...page.images);
    if (!page.next) break;
    before = `&before=${page.next}`;
  }
  const sorted = [...acknowledged].sort();
  const expected = MAX_STORED > 0 ? sorted.slice(-MAX_STORED) : sorted;
  const problems: string[] = [];
  const ids = new Set(listed.map((image) => image.id));
  const missing = expected.filter((id) => !ids.has(id));
  if (missing.length > 0) problems.push(`${missing.length} acknowledged images are not listed (first ${missing[0]})`);
  if (listed.length !== expected.length) problems.push(`${listed.length} listed, ${expected.length} expected`);
  for (const image of listed) {
    const png = Buffer.from(await (await fetch(`${url}/images/${image.id}`)).arrayBuffer());
    const meta = await sharp(png).metadata();
    if (png.length !== image.bytes || meta.width !== image.width || meta.height !== image.height) problems.push(`${image.id} is not whole`);
  }
  return { ok: problems.length === 0, listed: listed.length, problems };
}

function summarize(samples: Sample[], rss: Array<{ t: number; y: number }>, verdict: Awaited<ReturnType<typeof verify>>, acknowledged: number, load: number[]) {
  const byStatus = (kind: string) => samples.filter((s) => s.kind === kind).reduce<Record<number, number>>((counts, s) => {
    counts[s.status] = (counts[s.status] ?? 0) + 1;
    return counts;
  }, {});
  const latency = (kind: string) => {
    const ms = samples.filter((s) => s.kind === kind).map((s) => s.ms);
    return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
  };
  const fit = trend(rss.filter((s) => s.t >= 60_000));
  const serverErrors = samples.filter((s) => s.status >= 500).length;
  const checks = {
    'no 5xx': serverErrors === 0,
    'every 201 stored (listed, or removed oldest first by retention)': verdict.ok,
    'RSS growth after the first minute within noise': withinNoise(fit),
  };
  const figures = {
    minutes: MINUTES, clients: CLIENTS, max_stored_images: MAX_STORED, acknowledged_images: acknowledged, listed_at_end: verdict.listed,
    uploads_by_status: byStatus('upload'), polls_by_status: byStatus('poll'), upload_latency_ms: latency('upload'), poll_latency_ms: latency('poll'),
    rss_kb: { first: rss[0]?.y, min: Math.min(...rss.map((s) => s.y)), max: Math.max(...rss.map((s) => s.y)), last: rss.at(-1)?.y },
    rss_trend_after_first_minute: fit, rss_samples: rss, checks, problems: verdict.problems,
    machine: { cpus: `${cpus().length} x ${cpus()[0]?.model}`, memory_mb: Math.round(totalmem() / 2 ** 20), node: process.version, loadavg_start: load, loadavg_end: loadavg() },
  };
  const ms = (l: { p50: number; p99: number; max: number }) => `p50 ${l.p50.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${l.max.toFixed(0)} ms`;
  const text = [
    `soak: ${MINUTES} min, ${CLIENTS} upload clients + 1 poller, max_stored_images ${MAX_STORED}, memory_budget_mb ${args['budget-mb']}`,
    `started: ${describeAllocator(args.allocator as Allocator)}`,
    `machine: ${figures.machine.cpus}, ${figures.machine.memory_mb} MB, node ${process.version}, load ${load.map((l) => l.toFixed(2)).join(' ')} -> ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `uploads by status: ${JSON.stringify(figures.uploads_by_status)}; ${ms(figures.upload_latency_ms)}`,
    `polls by status:   ${JSON.stringify(figures.polls_by_status)}; ${ms(figures.poll_latency_ms)}`,
    `images: ${acknowledged} acknowledged, ${verdict.listed} listed at the end`,
    `RSS (kB): first ${figures.rss_kb.first}, min ${figures.rss_kb.min}, max ${figures.rss_kb.max}, last ${figures.rss_kb.last}`,
    `RSS trend after the first minute: ${fit.slopePerMinute.toFixed(0)} ± ${fit.slopeStdError.toFixed(0)} kB/min over ${fit.minutes.toFixed(1)} min `
      + `(${fit.samples} samples, noise sd ${fit.residualSd.toFixed(0)} kB, mean ${fit.mean.toFixed(0)} kB)`,
    ...Object.entries(checks).map(([name, ok]) => `${ok ? 'PASS' : 'FAIL'} ${name}`),
    ...verdict.problems.map((problem) => `  ${problem}`),
  ].join('\n');
  return { text, figures, pass: Object.values(checks).every(Boolean) };
}

/** The daemon's RSS with its image worker's private memory (rss-sampler.ts), in kB. */
function rssKb(pid: number): number {
  try {
    return readRssMb(pid) * 1024;
  } catch {
    return NaN;
  }
}

void main();
