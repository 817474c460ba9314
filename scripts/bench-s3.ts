import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { S3Status } from '../server/s3/s3-forwarder';
import { S3Client } from '../server/s3/s3-client';
import { s3SettingsFrom } from '../server/s3/s3-settings';
import { DEFAULT_SETTINGS, type SettingsInput } from '../server/settings';
import { startCeph, type Ceph } from '../test/helpers/ceph';
import { startDaemon } from '../test/helpers/daemon-process';
import { photoLike } from '../test/helpers/fixtures';
import { postImage, startTestApp } from '../test/helpers/test-app';

/**
 * What forwarding to S3 costs, against a one-node Ceph RGW on this machine (test/helpers/ceph.ts):
 * - the RSS the S3 code adds to a process (aws4 + node:http, the client the daemon uses; and
 *   @aws-sdk/client-s3 when --sdk-dir names a folder where it is installed), each in a fresh
 *   process that loads it and puts and heads `--rss-objects` objects;
 * - the forwarder's throughput over stored images against bare sequential PUTs of the same files
 *   to the same gateway.
 * Usage: node dist/scripts/bench-s3.js [--images 60] [--sdk-dir /tmp/sdk-measure]
 */
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '60' },
    'rss-objects': { type: 'string', default: '20' },
    'sdk-dir': { type: 'string' },
    // Internal: run one RSS measurement in this process and print it as JSON.
    'rss-child': { type: 'string' },
    endpoint: { type: 'string' },
    key: { type: 'string' },
    secret: { type: 'string' },
  },
});

const MB = 1024 * 1024;

async function rssChild(kind: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage.rss();
  const body = Buffer.alloc(512 * 1024, 7);
  const file = join(await mkdtemp(join(tmpdir(), 'pir-bench-s3-')), 'object.bin');
  await writeFile(file, body);
  const count = Number(values['rss-objects']);
  let loaded = before;
  if (kind === 'aws4') {
    const { S3Client: Client } = require('../server/s3/s3-client') as typeof import('../server/s3/s3-client');
    const settings = s3SettingsFrom({ ...DEFAULT_SETTINGS, s3_bucket: 'rss', s3_endpoint: values.endpoint!, s3_force_path_style: true, s3_access_key_id: values.key!, s3_secret_access_key: values.secret! })!;
    const client = new Client(settings, () => values.secret!);
    gc?.();
    loaded = process.memoryUsage.rss();
    for (let i = 0; i < count; i++) {
      await client.put({ key: `aws4/${i}`, file, bytes: body.length, contentType: 'application/octet-stream', metadata: {} }, AbortSignal.timeout(30_000));
      await client.head(`aws4/${i}`, AbortSignal.timeout(30_000));
    }
  } else if (kind === 'sdk') {
    const sdk = require(join(values['sdk-dir']!, 'node_modules', '@aws-sdk', 'client-s3')) as {
      S3Client: new (config: unknown) => { send(command: unknown): Promise<unknown> };
      PutObjectCommand: new (input: unknown) => unknown; HeadObjectCommand: new (input: unknown) => unknown;
    };
    // Checksums only where required: the SDK's default CRC32 trailer (aws-chunked) is not taken by every gateway.
    const client = new sdk.S3Client({
      endpoint: values.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: values.key, secretAccessKey: values.secret },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    gc?.();
    loaded = process.memoryUsage.rss();
    for (let i = 0; i < count; i++) {
      await client.send(new sdk.PutObjectCommand({ Bucket: 'rss', Key: `sdk/${i}`, Body: createReadStream(file), ContentLength: body.length }));
      await client.send(new sdk.HeadObjectCommand({ Bucket: 'rss', Key: `sdk/${i}` }));
    }
  }
  gc?.();
  console.log(JSON.stringify({ kind, loaded_mb: (loaded - before) / MB, added_mb: (process.memoryUsage.rss() - before) / MB }));
}

function measureRss(ceph: Ceph, kind: string): { loaded_mb: number; added_mb: number } {
  const out = execFileSync(process.execPath, [
    '--expose-gc', __filename, '--rss-child', kind, '--rss-objects', values['rss-objects']!, '--endpoint', ceph.endpoint,
    '--key', ceph.accessKeyId, '--secret', ceph.secretAccessKey, ...(values['sdk-dir'] ? ['--sdk-dir', values['sdk-dir']] : []),
  ], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as { loaded_mb: number; added_mb: number };
}

async function main(): Promise<void> {
  if (values['rss-child']) return rssChild(values['rss-child']);
  const ceph = await startCeph();
  try {
    await ceph.createBucket('rss');
    const kinds = ['none', 'aws4', ...(values['sdk-dir'] ? ['sdk'] : [])];
    for (const kind of kinds) {
      const runs = [0, 1, 2].map(() => measureRss(ceph, kind));
      const median = (key: 'loaded_mb' | 'added_mb'): string => runs.map((run) => run[key]).sort((a, b) => a - b)[1].toFixed(1);
      console.log(`RSS added by ${kind}, median of 3: loaded ${median('loaded_mb')} MB; after ${values['rss-objects']} PUT + HEAD of 512 KiB ${median('added_mb')} MB`);
    }

    // The daemon's own RSS after the same uploads, with forwarding off and on.
    for (const forward of [false, true]) {
      if (forward) await ceph.createBucket('daemon');
      const dataDir = await mkdtemp(join(tmpdir(), 'pir-bench-s3-daemon-'));
      const flags = ['--set', 'min_free_disk_mb=0', ...(forward ? [
        '--set', `s3_endpoint=${ceph.endpoint}`, '--set', 's3_bucket=daemon', '--set', 's3_force_path_style=true',
        '--set', `s3_access_key_id=${ceph.accessKeyId}`, '--set', `s3_secret_access_key=${ceph.secretAccessKey}`,
      ] : [])];
      const daemon = await startDaemon(dataDir, {}, flags);
      for (let i = 0; i < 30; i++) await fetch(`${daemon.url}/images?source=rss`, { method: 'POST', body: await photoLike(1280, 960, 'jpeg', i + 1), headers: { 'Content-Type': 'image/jpeg' } });
      for (;;) {
        const status = ((await (await fetch(`${daemon.url}/memory_status`)).json()) as { s3: S3Status }).s3;
        if (!status.enabled || status.pending_images === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${daemon.pid}/status`, 'utf8'))![1]);
      console.log(`daemon RSS after 30 uploads of 1280x960, forwarding ${forward ? 'on ' : 'off'}: ${(rssKb / 1024).toFixed(1)} MB`);
      await daemon.stop();
      await rm(dataDir, { recursive: true, force: true });
    }

    // Store the images with forwarding off, then turn it on from the first image and time it.
    const count = Number(values.images);
    await ceph.createBucket('forwarded');
    await ceph.createBucket('bare');
    const settings: SettingsInput = { min_free_disk_mb: 0 };
    const app = await startTestApp({ settings });
    for (let i = 0; i < count; i++) await postImage(app, await photoLike(1280, 960, 'jpeg', i + 1), '?source=bench');
    const images = [...app.deps.store.oldestFirst()];
    const bytes = images.reduce((sum, image) => sum + image.bytes, 0);
    await app.close();
    // A consumer seen for the first time starts at the newest image: this one starts before the first.
    await mkdir(join(app.dataDir, 'consumers'), { recursive: true });
    await writeFile(join(app.dataDir, 'consumers', 's3.json'), `${JSON.stringify({ cursor: null })}\n`);
    const bucket: SettingsInput = {
      ...settings, s3_endpoint: ceph.endpoint, s3_bucket: 'forwarded', s3_force_path_style: true,
      s3_access_key_id: ceph.accessKeyId, s3_secret_access_key: ceph.secretAccessKey,
    };
    const started = performance.now();
    const forwarding = await startTestApp({ dataDir: app.dataDir, settings: bucket });
    for (;;) {
      const status = ((await (await forwarding.fetch('/memory_status')).json()) as { s3: S3Status }).s3;
      if (status.enabled && status.pending_images === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const forwardSeconds = (performance.now() - started) / 1000;
    await forwarding.close();

    const target = s3SettingsFrom({ ...DEFAULT_SETTINGS, ...bucket, s3_bucket: 'bare' } as typeof DEFAULT_SETTINGS)!;
    const client = new S3Client(target, () => ceph.secretAccessKey);
    const bareStart = performance.now();
    for (const image of images) {
      await client.put({ key: `${image.id}.png`, file: forwarding.deps.store.pngPath(image.id), bytes: image.bytes, contentType: 'image/png', metadata: {} }, AbortSignal.timeout(60_000));
    }
    const bareSeconds = (performance.now() - bareStart) / 1000;
    client.close();
    await rm(app.dataDir, { recursive: true, force: true });
    const line = (name: string, seconds: number): string =>
      `${name}: ${count} images, ${(bytes / MB).toFixed(1)} MB in ${seconds.toFixed(2)} s = ${(count / seconds).toFixed(1)} images/s, ${(bytes / MB / seconds).toFixed(1)} MB/s`;
    console.log(line('forwarder (HEAD, MD5, PUT, cursor)', forwardSeconds));
    console.log(line('bare sequential PUT', bareSeconds));
  } finally {
    await ceph.destroy();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
