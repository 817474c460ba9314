import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aws4 from 'aws4';
import { freePort } from './mosquitto';

/** Debian's Ceph daemons and tools, installed by .ci/run when missing. */
const BINARIES = ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw', '/usr/bin/radosgw-admin', '/usr/bin/monmaptool', '/usr/bin/ceph'];

/** True when Debian's Ceph packages are installed, so a test can say why it skips. */
export const cephInstalled = BINARIES.every((path) => existsSync(path));

/** Why a Ceph test skips, or false when it can run. */
export const cephSkip = cephInstalled ? false : 'Debian\'s ceph-mon, ceph-osd, radosgw and ceph-common are not installed (.ci/run installs them)';

/** An S3 answer as the tests read it. */
export interface S3Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A one-node Ceph (monitor, one OSD on memstore) with the RADOS gateway on 127.0.0.1. */
export interface Ceph {
  /** http://127.0.0.1:<port> of the gateway. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stops only the gateway (SIGTERM by its PID); the objects stay in the OSD. */
  stopGateway(): Promise<void>;
  /** Starts the gateway again on the same port and waits until it answers. */
  startGateway(): Promise<void>;
  /** A request signed with the test user's keys: path-style `/bucket/key?query`. */
  s3(method: string, path: string, body?: Buffer): Promise<S3Answer>;
  /** Creates a bucket. */
  createBucket(bucket: string): Promise<void>;
  /** The keys of a bucket (ListObjectsV2, every page). */
  listKeys(bucket: string): Promise<string[]>;
  /** Multipart uploads begun and neither completed nor aborted. */
  listUploads(bucket: string): Promise<string[]>;
  /** Stops every daemon by its PID and removes the cluster's folder. */
  destroy(): Promise<void>;
}

/** How long the cluster may take to answer S3 requests; a cold start takes about 7 s here. */
const START_TIMEOUT_MS = 60_000;

/**
 * Starts a one-node Ceph in a temporary folder: a monitor and an OSD on memstore (objects in
 * memory, about 220 MB) with authentication off between them, and radosgw on a free loopback
 * port with one S3 user. Each daemon runs in the foreground, is stopped by its PID, and logs in
 * the folder. Resolves once the gateway answers.
 */
export async function startCeph(): Promise<Ceph> {
  const dir = await mkdtemp(join(tmpdir(), 'pir-ceph-'));
  const [monPort, gatewayPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const conf = join(dir, 'ceph.conf');
  for (const sub of ['run', 'mon', 'osd', 'rgw', 'crash']) await mkdir(join(dir, sub));
  await writeFile(conf, [
    '[global]',
    `fsid = ${fsid}`,
    `mon host = v2:127.0.0.1:${monPort}`,
    'auth cluster required = none', 'auth service required = none', 'auth client required = none',
    // Without it, clients ask the monitor for a secure mode it will not give with auth off.
    'ms mon client mode = crc secure',
    'osd pool default size = 1', 'osd pool default min size = 1',
    'osd pool default pg num = 8', 'osd pool default pgp num = 8',
    // The gateway creates a handful of pools; one OSD must be allowed to hold them all.
    'mon max pg per osd = 1000',
    'mon allow pool size one = true',
    'osd objectstore = memstore',
    'memstore device bytes = 1073741824',
    `run dir = ${dir}/run`, `crash dir = ${dir}/crash`,
    `log file = ${dir}/$name.log`, `admin socket = ${dir}/run/$name.asok`,
    `keyring = ${dir}/keyring`,
    '[mon.a]', `mon data = ${dir}/mon`,
    '[osd.0]', `osd data = ${dir}/osd`,
    '[client.rgw]', `rgw frontends = beast endpoint=127.0.0.1:${gatewayPort}`, `rgw data = ${dir}/rgw`,
    '',
  ].join('\n'));
  const run = (command: string, args: string[]): string => {
    const done = spawnSync(command, ['-c', conf, ...args], { encoding: 'utf8', timeout: 30_000 });
    if (done.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${done.stderr}`);
    return done.stdout;
  };
  const daemons: ChildProcess[] = [];
  const daemon = (command: string, args: string[]): ChildProcess => {
    const child = spawn(command, ['-f', '-c', conf, ...args], { stdio: 'ignore' });
    daemons.push(child);
    return child;
  };
  const endpoint = `http://127.0.0.1:${gatewayPort}`;
  const accessKeyId = 'PIRTESTACCESSKEY';
  const secretAccessKey = `pir-test-secret-${randomUUID()}`;
  let gateway: ChildProcess | undefined;
  const startGateway = async (): Promise<void> => {
    gateway ??= daemon('/usr/bin/radosgw', ['-n', 'client.rgw']);
    await waitForGateway(endpoint, gateway);
  };
  const stopGateway = async (): Promise<void> => {
    if (gateway) await stopProcess(gateway);
    gateway = undefined;
  };
  try {
    spawnSync('/usr/bin/monmaptool', ['--create', '--add', 'a', `v2:127.0.0.1:${monPort}`, '--fsid', fsid, join(dir, 'monmap')], { encoding: 'utf8' });
    run('/usr/bin/ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
    daemon('/usr/bin/ceph-mon', ['-i', 'a']);
    run('/usr/bin/ceph', ['osd', 'create']);
    run('/usr/bin/ceph-osd', ['-i', '0', '--mkfs']);
    daemon('/usr/bin/ceph-osd', ['-i', '0']);
    await startGateway();
    run('/usr/bin/radosgw-admin', ['user', 'create', '--uid=pir', '--display-name=pir', `--access-key=${accessKeyId}`, `--secret=${secretAccessKey}`]);
  } catch (err) {
    await Promise.all(daemons.map(stopProcess));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const s3 = (method: string, path: string, body?: Buffer): Promise<S3Answer> => signedRequest(endpoint, { accessKeyId, secretAccessKey }, method, path, body);
  return {
    endpoint, accessKeyId, secretAccessKey, stopGateway, startGateway, s3,
    async createBucket(bucket) {
      const answer = await s3('PUT', `/${bucket}`);
      if (answer.status !== 200) throw new Error(`CreateBucket answered ${answer.status}: ${answer.body.toString()}`);
    },
    async listKeys(bucket) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const answer = await s3('GET', `/${bucket}?list-type=2${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`);
        const xml = answer.body.toString();
        for (const match of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(match[1]);
        token = /<NextContinuationToken>([^<]*)</.exec(xml)?.[1];
      } while (token);
      return keys;
    },
    async listUploads(bucket) {
      const answer = await s3('GET', `/${bucket}?uploads=`);
      return [...answer.body.toString().matchAll(/<UploadId>([^<]*)<\/UploadId>/g)].map((match) => match[1]);
    },
    async destroy() {
      gateway = undefined;
      // The gateway first, the OSD, then the monitor, as the cluster depends on them.
      for (const child of [...daemons].reverse()) await stopProcess(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A request signed with AWS Signature V4 (the payload hash signed), path-style. */
function signedRequest(
  endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, method: string, path: string, body?: Buffer,
): Promise<S3Answer> {
  const url = new URL(endpoint);
  const signed = aws4.sign({ host: url.host, path, method, service: 's3', region: 'us-east-1', body, headers: body ? { 'Content-Type': 'application/octet-stream' } : {} }, credentials);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, method, path, headers: signed.headers as Record<string, string>, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls the gateway until it answers an HTTP request; fails early when it exits. */
async function waitForGateway(endpoint: string, gateway: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (gateway.exitCode !== null || gateway.signalCode !== null) throw new Error(`radosgw exited with ${gateway.exitCode ?? gateway.signalCode}`);
    const status = await fetch(endpoint, { signal: AbortSignal.timeout(2000) }).then((res) => res.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`radosgw did not answer on ${endpoint} in ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** SIGTERM by PID, then SIGKILL after 5 s: a memstore OSD keeps nothing worth a slow stop. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => { if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL'); }, 5000);
  await exited;
  clearTimeout(timer);
}
