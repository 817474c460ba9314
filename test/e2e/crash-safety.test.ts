import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { jpegWithOrientation, photoLike } from '../helpers/fixtures';
import { startDaemon, tempFolderEmptied } from '../helpers/daemon-process';
import { seededPrng } from '../helpers/prng';

const ROUNDS = 5;
const BURST = 16;
const SEED = Number(process.env.CRASH_SEED ?? 6);

interface Record { id: string; width: number; height: number; bytes: number }
interface Outcome { status: number; images: Record[] }
/** An upload whose connection the kill cut: no answer, so no promise was made. */
const CUT: Outcome = { status: 0, images: [] };

/**
 * Five times: a burst of concurrent uploads, SIGKILL once some have been answered and others are
 * still being processed or committed, restart on the same data dir. Every image that got a 201
 * must be listed and decode to its stored size; nothing half-written may be listed or stay on
 * disk; the listing and the files must agree.
 */
describe('crash safety', { timeout: 240_000 }, () => {
  it(`keeps every acknowledged image whole across ${ROUNDS} SIGKILLs mid-burst (seed ${SEED})`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pir-crash-'));
    const prng = seededPrng(SEED);
    // Distinct sizes, so that a record pointing at the wrong PNG would show.
    const uploads = await Promise.all(Array.from({ length: BURST }, (_, i) =>
      i % 5 === 4 ? jpegWithOrientation(6, 300 + i * 8, 200 + i * 4) : photoLike(360 + i * 8, 240 + i * 6, i % 3 === 0 ? 'png' : 'jpeg', i + 1)));
    const acknowledged = new Map<string, Record>();
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        // Alternate one image at a time and one per core, so that kills land in different places;
        // no free-space floor, so that retention never removes an image on a nearly full machine.
        const daemon = await startDaemon(dataDir, { ENABLE_MEMORY_OPTIMIZATION: String(round % 2 === 1), MIN_FREE_DISK_MB: '0' });
        await assertConsistent(daemon.url, dataDir, acknowledged);
        const killAfter = prng.int(1, 6);
        let answered = 0;
        let kill!: () => void;
        const killed = new Promise<void>((resolve) => { kill = resolve; });
        const burst = uploads.map((body, i) => upload(daemon.url, body, i % 4 === 3, round).then((outcome) => {
          if (outcome.status === 201 && ++answered === killAfter) kill();
          return outcome;
        }, () => CUT));
        await killed;
        await new Promise((resolve) => setTimeout(resolve, prng.int(0, 40)));
        daemon.child.kill('SIGKILL');
        assert.equal((await daemon.exited).signal, 'SIGKILL');
        let cut = 0;
        for (const outcome of await Promise.all(burst)) {
          if (outcome === CUT) cut++;
          else if (outcome.status === 201) for (const image of outcome.images) acknowledged.set(image.id, image);
          else assert.fail(`round ${round}: an upload got ${outcome.status}`);
        }
        assert.ok(cut > 0, `round ${round}: the kill came after the whole burst`);
        // What the kill left for the restart to sort out: uploads in progress, and files of
        // images committed (or half-committed) whose answer never left.
        const names = await readdir(join(dataDir, 'images'));
        const unanswered = names.filter((name) => !acknowledged.has(/\d{8}T[\w-]{19}/.exec(name)![0]));
        const halfWritten = unanswered.filter((name) => name.startsWith('.tmp-') || !names.includes(name.replace(/\.png$/, '.json')));
        const inProgress = (await readdir(join(dataDir, 'tmp'))).length;
        t.diagnostic(`round ${round}: killed after ${killAfter} answers; ${BURST - cut} answered, ${cut} cut off; left `
          + `${inProgress} uploads in progress, ${unanswered.length} unanswered image files, half-written: ${halfWritten.join(' ') || 'none'}`);
      }
      const daemon = await startDaemon(dataDir, { MIN_FREE_DISK_MB: '0' });
      try {
        await assertConsistent(daemon.url, dataDir, acknowledged);
      } finally {
        await daemon.stop();
      }
      assert.ok(acknowledged.size >= ROUNDS);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Group commit: images committed at once share one fsync of images/. Several are answered
 * together, then a second burst is cut by SIGKILL while its commits (and their shared fsync) are
 * in flight: every answered image of both must be listed and whole after the restart.
 */
describe('crash safety of group commit', { timeout: 120_000 }, () => {
  it('keeps every image answered together, and those of a burst cut by SIGKILL mid-commit', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pir-group-'));
    const acknowledged = new Map<string, Record>();
    try {
      const uploads = await Promise.all(Array.from({ length: 8 }, (_, i) => photoLike(200 + i * 8, 150 + i * 6, 'jpeg', i + 1)));
      const daemon = await startDaemon(dataDir, { MIN_FREE_DISK_MB: '0' });
      const together = await Promise.all(uploads.map((body) => upload(daemon.url, body, false, 1)));
      for (const outcome of together) {
        assert.equal(outcome.status, 201);
        for (const image of outcome.images) acknowledged.set(image.id, image);
      }
      const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
      const fsyncs = Number(/^image_receiver_fsyncs_total (\S+)$/m.exec(metrics)?.[1]);
      // Two files per image, and the folder at most once per image.
      assert.ok(fsyncs >= 2 * 8 + 1 && fsyncs <= 3 * 8 + 2, `${fsyncs} fsyncs for 8 images`);
      let killed!: () => void;
      const kill = new Promise<void>((resolve) => { killed = resolve; });
      const burst = uploads.map((body) => upload(daemon.url, body, false, 2).then((outcome) => {
        if (outcome.status === 201) killed();
        return outcome;
      }, () => CUT));
      await kill;
      daemon.child.kill('SIGKILL');
      assert.equal((await daemon.exited).signal, 'SIGKILL');
      let cut = 0;
      for (const outcome of await Promise.all(burst)) {
        if (outcome === CUT) cut++;
        else for (const image of outcome.images) acknowledged.set(image.id, image);
      }
      assert.ok(cut > 0, 'the kill came after the whole second burst');
      const restarted = await startDaemon(dataDir, { MIN_FREE_DISK_MB: '0' });
      try {
        await assertConsistent(restarted.url, dataDir, acknowledged);
      } finally {
        await restarted.stop();
      }
      assert.ok(acknowledged.size > 8);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** One upload, raw or as a one-file form; a cut connection rejects. */
async function upload(url: string, body: Buffer, multipart: boolean, round: number): Promise<Outcome> {
  const init: RequestInit = multipart
    ? { method: 'POST', body: (() => { const f = new FormData(); f.append('image', new Blob([body]), 'a.jpg'); return f; })() }
    : { method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream' } };
  const res = await fetch(`${url}/images?source=round-${round}`, init);
  const answer = await res.json() as { images?: Record[] };
  return { status: res.status, images: answer.images ?? [] };
}

/** Listing, files and pixels agree, and every acknowledged image is there with its size. */
async function assertConsistent(url: string, dataDir: string, acknowledged: Map<string, Record>): Promise<void> {
  const { images, next } = await (await fetch(`${url}/images?limit=1000`)).json() as { images: Record[]; next: string | null };
  assert.equal(next, null);
  const listed = new Map(images.map((image) => [image.id, image]));
  for (const [id, image] of acknowledged) {
    const record = listed.get(id);
    assert.ok(record, `acknowledged ${id} is listed`);
    assert.deepEqual([record.width, record.height, record.bytes], [image.width, image.height, image.bytes]);
  }
  for (const record of images) {
    const png = Buffer.from(await (await fetch(`${url}/images/${record.id}`)).arrayBuffer());
    assert.equal(png.length, record.bytes, `${record.id} is whole`);
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', record.width, record.height]);
    // Decoding every pixel proves the file is not cut short past its header.
    await sharp(png, { failOn: 'warning' }).raw().toBuffer();
  }
  const files = (await readdir(join(dataDir, 'images'))).sort();
  assert.deepEqual(files, images.flatMap((image) => [`${image.id}.json`, `${image.id}.png`]).sort(), 'no orphan, no temp file');
  await tempFolderEmptied(dataDir);
}
