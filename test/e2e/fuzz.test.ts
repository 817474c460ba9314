import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_SETTINGS } from '../../server/settings';
import { startDaemon, tempFolderEmptied } from '../helpers/daemon-process';
import { fuzzCases, fuzzCorpus, preparePngTemplate, type FuzzCase } from '../helpers/fuzz-cases';
import { seededPrng } from '../helpers/prng';

const COUNT = Number(process.env.FUZZ_COUNT ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
/** Peak RSS over the whole run, as a multiple of the RSS after warm-up. */
const RSS_BOUND = 2.5;

interface Record { id: string; width: number; height: number }

/**
 * Hostile uploads against the compiled daemon. Each must get a 4xx; a 201 is allowed only for a
 * harmless mutation, which this test decides on its own: every image in the request must decode
 * whole in this process (sharp, failOn 'warning', first page) to the stored size, turned or not
 * and bounded by max_image_dimension, and the stored PNG must decode to that size too. Never a 5xx, the daemon never dies, and its
 * RSS stays within RSS_BOUND times its RSS after a warm-up of valid uploads.
 */
describe('fuzzing uploads', { timeout: 300_000 }, () => {
  it(`answers ${COUNT} mutated uploads with a 4xx or a harmless 201, never a 5xx (seed ${SEED})`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pir-fuzz-'));
    const daemon = await startDaemon(dataDir, { MIN_FREE_DISK_MB: '0' });
    try {
      const corpus = await fuzzCorpus();
      await preparePngTemplate();
      const post = (c: Pick<FuzzCase, 'body' | 'contentType'>) =>
        fetch(`${daemon.url}/images`, { method: 'POST', body: c.body, headers: { 'Content-Type': c.contentType } });
      const stored: string[] = [];
      for (let round = 0; round < 3; round++) {
        for (const image of corpus) {
          const res = await post({ body: image, contentType: 'application/octet-stream' });
          assert.equal(res.status, 201, await res.clone().text());
          stored.push(...((await res.json()) as { images: Record[] }).images.map((i) => i.id));
        }
      }
      const warm = rssKb(daemon.pid);
      let peak = warm;
      const statuses: { [status: number]: number } = {};
      for (const [i, c] of fuzzCases(corpus, seededPrng(SEED), COUNT).entries()) {
        const res = await post(c);
        const text = await res.text();
        const what = `#${i} ${c.name} (${c.contentType}, ${c.body.length} B): ${res.status} ${text}`;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        assert.ok(res.status < 500, `${what}\n${daemon.output()}`);
        if (res.status === 201) {
          const images = (JSON.parse(text) as { images: Record[] }).images;
          await assertHarmless(daemon.url, c, images, what);
          stored.push(...images.map((image) => image.id));
        } else {
          assert.ok(res.status >= 400, what);
          assert.match(text, /^\{"error":\{"code":"[a-z_]+","message":"/, what);
        }
        assert.equal(daemon.child.exitCode, null, 'the daemon is still running');
        peak = Math.max(peak, rssKb(daemon.pid));
      }
      const end = rssKb(daemon.pid);
      t.diagnostic(`statuses ${JSON.stringify(statuses)}; RSS after warm-up ${warm} kB, peak ${peak} kB (${(peak / warm).toFixed(2)}x), end ${end} kB`);
      assert.ok(peak <= RSS_BOUND * warm, `peak RSS ${peak} kB is more than ${RSS_BOUND}x the ${warm} kB after warm-up`);
      assert.ok(Object.keys(statuses).some((status) => status !== '201'), 'the mutations were refused, not only stored');
      const listed = await (await fetch(`${daemon.url}/images?limit=1000`)).json() as { images: Record[] };
      assert.deepEqual(listed.images.map((image) => image.id).sort(), [...stored].sort());
      assert.deepEqual((await readdir(join(dataDir, 'images'))).sort(), stored.flatMap((id) => [`${id}.json`, `${id}.png`]).sort());
      await tempFolderEmptied(dataDir);
      assert.equal((await fetch(`${daemon.url}/health`)).status, 200);
    } finally {
      await daemon.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** A 201 is right only when every image of the request decodes whole here, to the stored size. */
async function assertHarmless(url: string, c: FuzzCase, images: Record[], what: string): Promise<void> {
  assert.equal(images.length, c.images.length, what);
  for (const [k, image] of images.entries()) {
    let decoded: sharp.OutputInfo;
    try {
      decoded = (await sharp(c.images[k], { failOn: 'warning', pages: 1 }).raw().toBuffer({ resolveWithObject: true })).info;
    } catch (err) {
      assert.fail(`${what}: stored, but the input does not decode: ${(err as Error).message}`);
    }
    // Turned or not, and bounded by max_image_dimension (default 2000) like the daemon does.
    const scale = Math.min(1, DEFAULT_SETTINGS.max_image_dimension / Math.max(decoded.width, decoded.height));
    const expected = [decoded.width, decoded.height].map((side) => Math.max(1, Math.round(side * scale))).sort((a, b) => a - b);
    const got = [image.width, image.height].sort((a, b) => a - b);
    assert.ok(got.every((side, j) => Math.abs(side - expected[j]) <= 1), `${what}: expected about ${expected.join('x')}`);
    const png = Buffer.from(await (await fetch(`${url}/images/${image.id}`)).arrayBuffer());
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height], [image.width, image.height], what);
  }
}

/** The resident set of process `pid`, in kB, from /proc. */
function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, 'VmRSS is readable');
  return Number(match[1]);
}
