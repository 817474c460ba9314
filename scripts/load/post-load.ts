import { Agent, request } from 'node:http';
import type { WorkloadImage } from './photo-jpeg';

/** What one load run measured from the client's side. */
export interface LoadResult {
  /** What the daemon reported storing, per image, in completion order. */
  stored: StoredFigures[];
  failures: string[];
  seconds: number;
  /** Per-image latency in ms, in completion order. */
  latenciesMs: number[];
}

/** The stored PNG of one posted image, as the daemon reported it. */
export interface StoredFigures {
  job: WorkloadImage;
  width: number;
  height: number;
  bytes: number;
}

export interface LoadOptions {
  /** Clients posting at once, each waiting for its answer before the next post. */
  concurrency: number;
  /** Stop handing out images after this long; what is in flight still finishes. */
  timeLimitMs: number;
}

/**
 * Posts every image of `jobs` to `${url}/images` as a raw body, from `concurrency` clients that
 * take the next job as soon as they have their answer, and times each request. Each client keeps
 * its connection, as a camera posting frames does, and posts through node:http rather than
 * fetch: the client shares the machine's cores with the daemon, which bare sharp has to itself,
 * and fetch costs it about 2.8 ms of CPU per 640x480 post on the build VM, node:http 1.1 ms.
 */
export async function postImages(url: string, jobs: readonly WorkloadImage[], options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { stored: [], failures: [], seconds: 0, latenciesMs: [] };
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const started = performance.now();
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < jobs.length && performance.now() - started < options.timeLimitMs) {
      const job = jobs[next++];
      const sent = performance.now();
      const { status, text } = await post(`${url}/images?source=${job.name}`, job.jpeg, agent);
      if (status !== 201) {
        result.failures.push(`${job.name}: ${status} ${text.slice(0, 200)}`);
        continue;
      }
      result.latenciesMs.push(performance.now() - sent);
      const [image] = (JSON.parse(text) as { images: Array<Omit<StoredFigures, 'job'>> }).images;
      result.stored.push({ job, width: image.width, height: image.height, bytes: image.bytes });
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, client));
  } finally {
    agent.destroy();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** One POST of a JPEG body; resolves with the status and the answer's text. */
function post(url: string, body: Buffer, agent: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'Content-Type': 'image/jpeg', 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The `p`-th percentile (0-100) of `values`, nearest-rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Sets runtime settings through POST /config, as an operator would. */
export async function postConfig(url: string, settings: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${url}/config`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(settings),
  });
  if (response.status !== 200) throw new Error(`POST /config ${JSON.stringify(settings)}: ${response.status} ${await response.text()}`);
}

/**
 * Waits until the daemon has hashed every image it stored (`similarity.hashing.pending` of
 * /memory_status is 0). It hashes new images once the uploads stop, and that work must not fall
 * on what is measured next, bare sharp above all.
 * @throws Error when images are still waiting after `timeoutMs`.
 */
export async function waitForHashing(url: string, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const status = (await (await fetch(`${url}/memory_status`)).json()) as { similarity: { hashing: { pending: number } } };
    if (status.similarity.hashing.pending === 0) return;
    if (Date.now() - started > timeoutMs) throw new Error(`the daemon still has ${status.similarity.hashing.pending} images to hash after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Renders rows of cells as an aligned plain-text table with a header rule. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => cell.padStart(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
