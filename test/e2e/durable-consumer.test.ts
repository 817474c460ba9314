import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { photoLike } from '../helpers/fixtures';
import { startDaemon } from '../helpers/daemon-process';

const ROUNDS = 3;
const BURST = 12;

interface Listing { images: Array<{ id: string }>; next: string | null }

async function listedIds(url: string): Promise<string[]> {
  const res = await fetch(`${url}/images?limit=1000`);
  return ((await res.json()) as Listing).images.map((image) => image.id).reverse();
}

async function loggedIds(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

/** Polls for at most 30 s; `explain` says what was seen instead. */
async function until(condition: () => Promise<boolean>, what: string, explain?: () => Promise<string>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}${explain ? `: ${await explain()}` : ''}`);
}

/**
 * The built-in id-log consumer, through the compiled daemon: a burst of concurrent uploads, a
 * SIGKILL in the middle, a restart. Every image that is listed after the restart must reach the
 * log, in commit order (ids sort by commit), each at least once.
 */
describe('a durable consumer across SIGKILLs', { timeout: 180_000 }, () => {
  it(`misses no committed image over ${ROUNDS} kills mid-stream`, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pir-consumer-e2e-'));
    const logFile = join(dataDir, 'ids.log');
    const uploads = await Promise.all(Array.from({ length: BURST }, (_, i) => photoLike(200 + i * 4, 150, 'jpeg', i + 1)));
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        // The setting comes as a flag: operator-only settings may.
        const daemon = await startDaemon(dataDir, { MIN_FREE_DISK_MB: '0', ENABLE_MEMORY_OPTIMIZATION: String(round % 2 === 0) }, ['--set', `id_log_file=${logFile}`]);
        let answered = 0;
        const burst = uploads.map((body) => fetch(`${daemon.url}/images?source=burst`, { method: 'POST', body, headers: { 'Content-Type': 'image/jpeg' } })
          .then((res) => { if (res.status === 201) answered++; })
          .catch(() => undefined));
        // Kill once some are answered and others are in flight.
        await until(async () => answered >= round * 2, `${round * 2} answers`);
        daemon.child.kill('SIGKILL');
        await daemon.exited;
        await Promise.all(burst);
      }
      const daemon = await startDaemon(dataDir, { MIN_FREE_DISK_MB: '0' }, ['--set', `id_log_file=${logFile}`]);
      try {
        const listed = await listedIds(daemon.url);
        assert.ok(listed.length >= ROUNDS * 2, `at least the answered images are listed (${listed.length})`);
        await until(async () => {
          const logged = new Set(await loggedIds(logFile));
          return listed.every((id) => logged.has(id));
        }, 'every listed id in the log', async () => {
          const logged = new Set(await loggedIds(logFile));
          const status = await (await fetch(`${daemon.url}/memory_status`)).json() as { consumers: unknown };
          return `missing ${JSON.stringify(listed.filter((id) => !logged.has(id)))} of ${JSON.stringify(listed)}; consumers ${JSON.stringify(status.consumers)}`;
        });
        const logged = await loggedIds(logFile);
        // At least once, in commit order: with repeats removed, the log is the listing.
        const firstSeen = logged.filter((id, i) => logged.indexOf(id) === i);
        assert.deepEqual(firstSeen.filter((id) => listed.includes(id)), listed);
        const status = (await (await fetch(`${daemon.url}/memory_status`)).json()) as { consumers: Record<string, { pending: number; cursor: string }> };
        assert.equal(status.consumers['id-log'].pending, 0);
        assert.equal(status.consumers['id-log'].cursor, listed.at(-1));
        const config = (await (await fetch(`${daemon.url}/config`)).json()) as Record<string, unknown>;
        assert.equal(config.id_log_file, logFile);
        // Operator-only: a client cannot point it elsewhere.
        const res = await fetch(`${daemon.url}/config`, { method: 'POST', body: JSON.stringify({ id_log_file: '/tmp/elsewhere' }), headers: { 'Content-Type': 'application/json' } });
        assert.equal(res.status, 403);
        const body = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
        assert.equal(body.error.code, 'forbidden_setting');
        assert.ok(body.error.fields.id_log_file);
      } finally {
        await daemon.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
