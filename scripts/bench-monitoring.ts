/**
 * `npm run bench:monitoring`: what watching the daemon costs. Starts the compiled daemon as a
 * child process on 127.0.0.1 and prints, from its /proc entries: CPU and RSS while idle, while
 * live pages follow /events, the time to answer /memory_status and /metrics, and the time to
 * make a thumbnail. Figures only; nothing here passes or fails.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type DaemonProcess } from '../test/helpers/daemon-process';
import { photoLike } from '../test/helpers/fixtures';

const CLOCK_TICKS = 100;

/** CPU seconds the process has used, from /proc/<pid>/stat (utime + stime). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) / 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU percent of one core and RSS over `seconds` of wall time. */
async function watch(daemon: DaemonProcess, seconds: number): Promise<string> {
  const cpu0 = cpuSeconds(daemon.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = (cpuSeconds(daemon.pid) - cpu0) / ((performance.now() - t0) / 1000);
  return `CPU ${(cpu * 100).toFixed(2)} % of one core, RSS ${rssMiB(daemon.pid).toFixed(1)} MiB`;
}

/** Mean and worst response time of `count` sequential GETs, in ms. */
async function time(url: string, count: number): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await (await fetch(url)).arrayBuffer();
    times.push(performance.now() - t0);
  }
  const mean = times.reduce((a, b) => a + b, 0) / count;
  return `mean ${mean.toFixed(2)} ms, worst ${Math.max(...times).toFixed(2)} ms over ${count}`;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 20);
  const dataDir = await mkdtemp(join(tmpdir(), 'pir-bench-'));
  const daemon = await startDaemon(dataDir);
  const streams: AbortController[] = [];
  try {
    await sleep(2000);
    console.log(`idle, nobody watching (${seconds} s): ${await watch(daemon, seconds)}`);
    for (const clients of [1, 10]) {
      while (streams.length < clients) {
        const abort = new AbortController();
        const res = await fetch(`${daemon.url}/events`, { signal: abort.signal });
        // Read and drop the stream, as a page would.
        void res.body!.pipeTo(new WritableStream()).catch(() => undefined);
        streams.push(abort);
      }
      console.log(`${clients} live page(s) on /events (${seconds} s): ${await watch(daemon, seconds)}`);
    }
    for (const abort of streams.splice(0)) abort.abort();
    console.log(`GET /memory_status: ${await time(`${daemon.url}/memory_status`, 200)}`);
    console.log(`GET /metrics: ${await time(`${daemon.url}/metrics`, 200)}`);
    const posted = await fetch(`${daemon.url}/images`, { method: 'POST', body: await photoLike(2000, 1500), headers: { 'Content-Type': 'image/jpeg' } });
    const { images: [image] } = await posted.json() as { images: Array<{ id: string; bytes: number }> };
    const t0 = performance.now();
    const thumb = await (await fetch(`${daemon.url}/images/${image.id}/thumbnail`)).arrayBuffer();
    const made = performance.now() - t0;
    console.log(`thumbnail of a 2000x1500 PNG (${(image.bytes / 1024 / 1024).toFixed(1)} MiB): made in ${made.toFixed(0)} ms, ${(thumb.byteLength / 1024).toFixed(1)} KiB; again: ${await time(`${daemon.url}/images/${image.id}/thumbnail`, 50)}`);
  } finally {
    for (const abort of streams) abort.abort();
    await daemon.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
