import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { SettingsInput } from '../../server/settings';
import type { S3Status } from '../../server/s3/s3-forwarder';
import { cephSkip, startCeph, type Ceph } from '../helpers/ceph';
import { startDaemon } from '../helpers/daemon-process';
import { photoLike } from '../helpers/fixtures';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

/** Polls every 50 ms for at most `seconds`; `explain` says what was seen instead. */
async function until(condition: () => boolean | Promise<boolean>, what: string, seconds = 30, explain?: () => Promise<string> | string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}${explain ? `: ${await explain()}` : ''}`);
}

/** Noise does not compress: a PNG of about `mb` MB. */
function noisePng(mb: number): Promise<Buffer> {
  const side = Math.ceil(Math.sqrt((mb * 1024 * 1024) / 3));
  return sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

const BUCKET_SETTINGS = (ceph: Ceph, bucket: string): SettingsInput => ({
  s3_endpoint: ceph.endpoint, s3_bucket: bucket, s3_force_path_style: true, s3_region: 'us-east-1',
  s3_access_key_id: ceph.accessKeyId, s3_secret_access_key: ceph.secretAccessKey,
  min_free_disk_mb: 0, compression_quality: 1, max_image_dimension: 4096,
});

async function s3Status(app: TestApp): Promise<Extract<S3Status, { enabled: true }>> {
  const status = (await (await app.fetch('/memory_status')).json()) as { s3: S3Status };
  assert.equal(status.s3.enabled, true, 'forwarding is on');
  return status.s3 as Extract<S3Status, { enabled: true }>;
}

/**
 * The S3 forwarder against a real Ceph RADOS gateway (one per file: a cold start takes about
 * 7 s), which checks every signature and payload hash as AWS does.
 */
describe('forwarding to S3 (Ceph RGW)', { skip: cephSkip, timeout: 300_000 }, () => {
  let ceph: Ceph;
  before(async () => { ceph = await startCeph(); });
  after(async () => { await ceph?.destroy(); });

  it('forwards a burst in commit order, byte for byte, with its metadata', async () => {
    await ceph.createBucket('burst');
    const app = await startTestApp({ settings: { ...BUCKET_SETTINGS(ceph, 'burst'), s3_upload_records: true } });
    try {
      const firstSeen = new Map<string, number>();
      let polling = true;
      let round = 0;
      // Every key's first appearance, polled while the burst is forwarded.
      const poller = (async () => {
        while (polling) {
          round++;
          for (const key of await ceph.listKeys('burst')) if (!firstSeen.has(key)) firstSeen.set(key, round);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const bodies = await Promise.all(Array.from({ length: 12 }, (_, i) => photoLike(160 + i * 8, 120, 'jpeg', i + 1)));
      const answers = await Promise.all(bodies.map((body, i) => postImage(app, body, `?source=cam${i % 2}&captured_at=2026-03-0${1 + (i % 2)}T10:00:00Z`)));
      assert.deepEqual(answers.map((res) => res.status), bodies.map(() => 201));
      await until(async () => (await s3Status(app)).pending_images === 0, 'nothing pending');
      polling = false;
      await poller;
      const images = [...app.deps.store.oldestFirst()];
      assert.equal(images.length, 12);
      const keys = await ceph.listKeys('burst');
      assert.equal(keys.length, 24, 'a PNG and a record per image');
      for (const image of images) {
        const key = `${image.source}/2026/03/0${image.source === 'cam0' ? 1 : 2}/${image.id}.png`;
        assert.ok(keys.includes(key), `${key} is in the bucket`);
        const got = await ceph.s3('GET', `/burst/${key}`);
        assert.equal(got.status, 200);
        assert.ok(got.body.equals(await readFile(app.deps.store.pngPath(image.id))), `${key} is byte-identical`);
        assert.equal(got.headers['content-type'], 'image/png');
        assert.equal(got.headers['x-amz-meta-image-id'], image.id);
        assert.equal(got.headers['x-amz-meta-source'], image.source);
        assert.equal(got.headers['x-amz-meta-received-at'], image.received_at);
        assert.equal(got.headers['x-amz-meta-captured-at'], image.captured_at);
        const record = await ceph.s3('GET', `/burst/${key.replace(/\.png$/, '.json')}`);
        assert.equal((JSON.parse(record.body.toString()) as { id: string }).id, image.id);
      }
      // Forwarded in commit order: no image appeared in the bucket before an older one.
      const seen = images.map((image) => [...firstSeen].find(([key]) => key.endsWith(`/${image.id}.png`))?.[1] ?? Infinity);
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'first seen in commit order');
      const status = await s3Status(app);
      assert.equal(status.uploaded_objects, 24);
      assert.equal(status.failures, 0);
      assert.equal(status.local_only_images, 0);
      const metrics = await (await app.fetch('/metrics')).text();
      assert.match(metrics, /^image_receiver_s3_uploaded_objects_total 24$/m);
      assert.match(metrics, /^image_receiver_s3_pending_images 0$/m);
      // The secret is nowhere to be read.
      for (const path of ['/memory_status', '/config', '/metrics', '/logs']) {
        assert.ok(!(await (await app.fetch(path)).text()).includes(ceph.secretAccessKey), `${path} does not show the secret`);
      }
    } finally {
      await app.destroy();
    }
  });

  it('sends a 20 MB image as a multipart upload, and nothing twice after a restart', async () => {
    await ceph.createBucket('large');
    const app = await startTestApp({ settings: BUCKET_SETTINGS(ceph, 'large') });
    try {
      assert.equal((await postImage(app, await noisePng(20), '?source=big', 'image/png')).status, 201);
      await until(async () => (await s3Status(app)).pending_images === 0, 'the large image forwarded', 60);
      const [image] = [...app.deps.store.oldestFirst()];
      assert.ok(image.bytes > 16 * 1024 * 1024, `the PNG is over the multipart threshold (${image.bytes} B)`);
      const [key] = await ceph.listKeys('large');
      const head = await ceph.s3('HEAD', `/large/${key}`);
      assert.equal(Number(head.headers['content-length']), image.bytes);
      // A multipart object's ETag is the MD5 of its parts' MD5s, then the number of parts.
      assert.match(String(head.headers.etag), /-3"$/, 'three parts');
      const got = await ceph.s3('GET', `/large/${key}`);
      assert.ok(got.body.equals(await readFile(app.deps.store.pngPath(image.id))));
      assert.deepEqual(await ceph.listUploads('large'), [], 'no unfinished upload left');
      // Forwarded again from scratch (the cursor reset), it is found in the bucket and not re-sent.
      await app.close();
      await rm(join(app.dataDir, 'consumers', 's3.json'));
      await writeFile(join(app.dataDir, 'consumers', 's3.json'), `${JSON.stringify({ cursor: null })}\n`);
      const again = await startTestApp({ dataDir: app.dataDir, settings: BUCKET_SETTINGS(ceph, 'large') });
      try {
        await until(async () => (await s3Status(again)).pending_images === 0, 'the image looked at again');
        const status = await s3Status(again);
        assert.equal(status.already_stored, 1);
        assert.equal(status.uploaded_objects, 0);
      } finally {
        await again.destroy();
      }
    } finally {
      await rm(app.dataDir, { recursive: true, force: true });
    }
  });

  it('waits out a gateway outage mid-burst: every image arrives, none is sent twice', async () => {
    await ceph.createBucket('outage');
    const app = await startTestApp({ settings: BUCKET_SETTINGS(ceph, 'outage') });
    try {
      const bodies = await Promise.all(Array.from({ length: 16 }, (_, i) => photoLike(400, 300, 'jpeg', 100 + i)));
      const first = bodies.slice(0, 8).map((body) => postImage(app, body, '?source=door'));
      await until(async () => (await ceph.listKeys('outage')).length >= 2, 'the first objects');
      await ceph.stopGateway();
      // Uploads go on while the bucket is away.
      const rest = await Promise.all(bodies.slice(8).map((body) => postImage(app, body, '?source=door')));
      assert.deepEqual([...(await Promise.all(first)), ...rest].map((res) => res.status), bodies.map(() => 201));
      await until(async () => (await s3Status(app)).failures > 0, 'a failed attempt');
      const waiting = await s3Status(app);
      assert.ok(waiting.pending_images > 0 && waiting.oldest_pending_age_seconds !== null);
      assert.match(String(waiting.last_error), /ECONNREFUSED|socket|ECONNRESET/);
      await ceph.startGateway();
      // The camera goes on sending: a new upload cuts the forwarder's back-off short.
      assert.equal((await postImage(app, await photoLike(400, 300, 'jpeg', 99), '?source=door')).status, 201);
      await until(async () => (await s3Status(app)).pending_images === 0, 'every image forwarded after the outage', 90);
      const keys = await ceph.listKeys('outage');
      const ids = [...app.deps.store.oldestFirst()].map((image) => image.id);
      assert.deepEqual(keys.map((key) => key.replace(/^.*\/|\.png$/g, '')).sort(), ids);
      const status = await s3Status(app);
      assert.equal(ids.length, 17);
      assert.equal(status.uploaded_objects + status.already_stored, 17, 'each image put once, or found there');
    } finally {
      await app.destroy();
    }
  });

  it('says a wrong secret in the status, loses nothing, and recovers once the secret file is fixed', async () => {
    await ceph.createBucket('secret');
    const dir = await mkdtemp(join(tmpdir(), 'pir-s3-secret-'));
    const secretFile = join(dir, 'secret');
    await writeFile(secretFile, 'not-the-secret\n', { mode: 0o600 });
    const app = await startTestApp({ settings: { ...BUCKET_SETTINGS(ceph, 'secret'), s3_secret_access_key: '', s3_secret_access_key_file: secretFile } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await postImage(app, await photoLike(120, 90, 'jpeg', 40 + i), '?source=gate')).status, 201);
      await until(async () => (await s3Status(app)).failures > 0, 'the refusal');
      const refused = await s3Status(app);
      assert.match(String(refused.last_error), /^S3 answered 403 .*(SignatureDoesNotMatch|secret access key)/);
      assert.equal(refused.pending_images, 3);
      assert.equal(app.deps.store.totals().count, 3, 'nothing lost');
      assert.deepEqual(await ceph.listKeys('secret'), []);
      await writeFile(secretFile, `${ceph.secretAccessKey}\n`);
      await until(async () => (await s3Status(app)).pending_images === 0, 'the images forwarded with the right secret', 90);
      assert.equal((await ceph.listKeys('secret')).length, 3);
      assert.equal((await s3Status(app)).last_error, refused.last_error, 'the last error stays for the record');
      const config = await (await app.fetch('/config')).text();
      assert.ok(!config.includes(ceph.secretAccessKey));
    } finally {
      await app.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with local_retention until_forwarded, removes a local PNG only once the bucket has it', async () => {
    await ceph.createBucket('buffer');
    const app = await startTestApp({ settings: { ...BUCKET_SETTINGS(ceph, 'buffer'), local_retention: 'until_forwarded' } });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await postImage(app, await photoLike(120, 90, 'jpeg', 60 + i), '?source=yard')).status, 201);
      await until(() => app.deps.store.totals().count === 0, 'the forwarded images gone from the disk');
      assert.equal((await ceph.listKeys('buffer')).length, 4);
      await ceph.stopGateway();
      const kept: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await postImage(app, await photoLike(120, 90, 'jpeg', 70 + i), '?source=yard');
        kept.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
      }
      await until(async () => (await s3Status(app)).failures > 0, 'a failed attempt');
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const id of kept) await readFile(app.deps.store.pngPath(id));
      assert.equal((await s3Status(app)).local_only_images, 3);
      await ceph.startGateway();
      await until(() => app.deps.store.totals().count === 0, 'the rest gone once forwarded', 90);
      const keys = await ceph.listKeys('buffer');
      for (const id of kept) assert.ok(keys.some((key) => key.endsWith(`/${id}.png`)), `${id} is in the bucket`);
    } finally {
      await app.destroy();
    }
  });

  it('loses nothing and lists no half object when the daemon is SIGKILLed mid-upload', async () => {
    await ceph.createBucket('killed');
    const dataDir = await mkdtemp(join(tmpdir(), 'pir-s3-kill-'));
    const flags = Object.entries(BUCKET_SETTINGS(ceph, 'killed')).flatMap(([key, value]) => ['--set', `${key}=${String(value)}`]);
    const large = await noisePng(40);
    let daemon = await startDaemon(dataDir, {}, flags);
    try {
      const res = await fetch(`${daemon.url}/images?source=big`, { method: 'POST', body: large, headers: { 'Content-Type': 'image/png' } });
      assert.equal(res.status, 201);
      const { images: [image] } = (await res.json()) as { images: Array<{ id: string; bytes: number }> };
      await until(async () => (await ceph.listUploads('killed')).length > 0, 'a multipart upload under way', 60);
      daemon.child.kill('SIGKILL');
      await daemon.exited;
      assert.deepEqual(await ceph.listKeys('killed'), [], 'the half-sent object is not listed');
      daemon = await startDaemon(dataDir, {}, flags);
      await until(async () => (await ceph.listKeys('killed')).length === 1, 'the image forwarded after the restart', 90);
      const [key] = await ceph.listKeys('killed');
      assert.ok(key.endsWith(`/${image.id}.png`));
      const got = await ceph.s3('GET', `/killed/${key}`);
      assert.ok(got.body.equals(await readFile(join(dataDir, 'images', `${image.id}.png`))), 'the object is whole');
    } finally {
      await daemon.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
