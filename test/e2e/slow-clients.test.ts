import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { photoLike } from '../helpers/fixtures';
import { startDaemon, tempFolderEmptied, type DaemonProcess } from '../helpers/daemon-process';
import { openSocket, rawRequest, readUntilClosed } from '../helpers/raw-http';

const MAX_CONNECTIONS = 6;

/**
 * Slow clients against the compiled daemon, with its timeouts shortened through the environment
 * so that the test stays quick. Nothing here measures time: each check is about order (the
 * others were served while the slow one was still connected) and outcome (it was cut off).
 */
describe('slow and idle clients', { timeout: 60_000 }, () => {
  let dataDir: string;
  let daemon: DaemonProcess;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pir-e2e-slow-'));
    daemon = await startDaemon(dataDir, {
      HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '4000', KEEP_ALIVE_TIMEOUT_MS: '500', MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    });
  });
  after(async () => {
    await daemon.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Writes `chunk` every 50 ms until the server closes the socket; resolves with what it answered. */
  function trickle(socket: Socket, first: string, chunk: string): Promise<string> {
    const answer = readUntilClosed(socket);
    socket.write(first, 'latin1');
    const timer = setInterval(() => { if (!socket.destroyed) socket.write(chunk); }, 50);
    return answer.finally(() => clearInterval(timer));
  }

  /** Serves others while `slow` is still connected; returns how many were served then. */
  async function othersServedWhile(slow: Socket): Promise<number> {
    const jpeg = await photoLike(120, 90);
    let served = 0;
    for (let i = 0; i < 5; i++) {
      const health = await fetch(`${daemon.url}/health`);
      const upload = await fetch(`${daemon.url}/images?source=meanwhile`, { method: 'POST', body: jpeg, headers: { 'Content-Type': 'image/jpeg' } });
      await Promise.all([health.arrayBuffer(), upload.arrayBuffer()]);
      assert.deepEqual([health.status, upload.status], [200, 201]);
      if (!slow.destroyed) served++;
    }
    return served;
  }

  it('cuts off a client that trickles its headers, serving others meanwhile', async () => {
    const slow = await openSocket(daemon.url);
    const answer = trickle(slow, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: a\r\n');
    assert.ok(await othersServedWhile(slow) > 0, 'others were served while the slow client was connected');
    assert.match(await answer, /^HTTP\/1\.1 408 Request Timeout/);
  });

  it('cuts off an upload whose body trickles, serving others meanwhile, and keeps none of it', async () => {
    const slow = await openSocket(daemon.url);
    const head = 'POST /images?source=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n\xff\xd8\xff';
    const answer = trickle(slow, head, 'x'.repeat(64));
    assert.ok(await othersServedWhile(slow) > 0, 'others were served while the slow upload was connected');
    assert.match(await answer, /^HTTP\/1\.1 408 Request Timeout/);
    const list = await (await fetch(`${daemon.url}/images?source=slow`)).json() as { images: unknown[] };
    assert.deepEqual(list.images, []);
    // The route removes the request's temp folder as it unwinds, just after the socket closes.
    await tempFolderEmptied(dataDir);
  });

  it(`closes connections past max-connections (${MAX_CONNECTIONS}), and idle ones after the headers timeout`, async () => {
    const idle = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => openSocket(daemon.url)));
    const idleAnswers = idle.map((socket) => readUntilClosed(socket));
    const extra = await openSocket(daemon.url);
    const extraAnswer = readUntilClosed(extra);
    extra.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(await extraAnswer, '', 'closed without an answer');
    assert.ok(idle.every((socket) => !socket.destroyed), 'the first ones were still connected then');
    // Idle connections that never send a byte are cut too, which frees their places.
    for (const answer of await Promise.all(idleAnswers)) assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.equal((await fetch(`${daemon.url}/health`)).status, 200);
  });
});

/**
 * One client holding many slow uploads, against the compiled daemon with its default connection
 * caps (128 in all, 32 per client) and a minimum body rate shortened so that the test stays quick.
 * Every client here is on loopback: the other client sends from 127.0.0.2, a different address.
 */
describe('one client holding many slow uploads', { timeout: 60_000 }, () => {
  const PER_CLIENT = 32;
  const SLOW_UPLOADS = 140;
  let dataDir: string;
  let daemon: DaemonProcess;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pir-e2e-hog-'));
    // The global cap well above the hog's connections: a refused connection keeps its place while
    // it lingers for the client to read its 429, and the global cap drops what comes past it
    // unanswered; this test is about the per-client cap.
    daemon = await startDaemon(dataDir, {
      MAX_CONNECTIONS: '512', MAX_CONNECTIONS_PER_CLIENT: String(PER_CLIENT), MIN_BODY_BYTES_PER_SECOND: '64', BODY_RATE_WINDOW_MS: '1000',
      REQUEST_TIMEOUT_MS: '60000',
    });
  });
  after(async () => {
    await daemon.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const slowHead = (source: string): string =>
    `POST /images?source=${source} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n\r\n\xff\xd8\xff`;

  /** Polls up to 200 times, 50 ms apart, until `done`; for what the daemon does as it gets to it. */
  async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await done()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail(what);
  }

  async function assertNothingKept(source: string): Promise<void> {
    // Asked from another address: the daemon may not have seen all of the hog's connections close yet.
    const list = await rawRequest(daemon.url, 'GET', `/images?source=${source}`, {}, undefined, '127.0.0.2');
    assert.deepEqual((JSON.parse(list.body.toString()) as { images: unknown[] }).images, []);
    // The route removes each request's temp folder as it unwinds, just after its socket closes.
    await tempFolderEmptied(dataDir, 30_000);
  }

  it(`refuses the client's connections past ${PER_CLIENT} with 429, and serves another client meanwhile`, async () => {
    const sockets = await Promise.all(Array.from({ length: SLOW_UPLOADS }, () => openSocket(daemon.url, '127.0.0.1')));
    const answers: Array<string | undefined> = sockets.map(() => undefined);
    sockets.forEach((socket, i) => void readUntilClosed(socket).then((text) => { answers[i] = text; }));
    for (const socket of sockets) socket.write(slowHead('hog'), 'latin1');
    // 64 bytes every 100 ms: ten times the minimum rate, so only the cap can refuse these.
    const timer = setInterval(() => { for (const socket of sockets) if (!socket.destroyed) socket.write('x'.repeat(64)); }, 100);
    try {
      const refusedCount = (): number => answers.filter((answer) => answer !== undefined).length;
      await until(() => refusedCount() >= SLOW_UPLOADS - PER_CLIENT, `${SLOW_UPLOADS - PER_CLIENT} connections refused`);
      for (const answer of answers.filter((text): text is string => text !== undefined)) {
        assert.match(answer, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
        assert.match(answer, /"code":"too_many_connections"/);
      }
      const held = sockets.filter((socket) => !socket.destroyed);
      assert.equal(held.length, PER_CLIENT);

      // Another client is served: /health, and an upload.
      const health = await rawRequest(daemon.url, 'GET', '/health', {}, undefined, '127.0.0.2');
      assert.equal(health.status, 200);
      const upload = await rawRequest(daemon.url, 'POST', '/images?source=other', { 'Content-Type': 'image/jpeg' }, await photoLike(120, 90), '127.0.0.2');
      assert.equal(upload.status, 201, upload.body.toString());
      // The hog's next connection is refused, and it still holds its places: all this happened meanwhile.
      assert.equal((await rawRequest(daemon.url, 'GET', '/health', {}, undefined, '127.0.0.1')).status, 429);
      assert.ok(held.every((socket) => !socket.destroyed), 'the slow uploads were still connected');
    } finally {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
    }
    await assertNothingKept('hog');
  });

  it('cuts an upload whose body arrives below the minimum rate with 408, and keeps none of it', async () => {
    const slow = await openSocket(daemon.url, '127.0.0.3');
    const answer = readUntilClosed(slow);
    slow.write(slowHead('trickle'), 'latin1');
    // One byte every 100 ms is 10 bytes a second, below the minimum of 64.
    const timer = setInterval(() => { if (!slow.destroyed) slow.write('x'); }, 100);
    const text = await answer.finally(() => clearInterval(timer));
    assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(text, /"code":"request_timeout"/);
    await assertNothingKept('trickle');
  });
});
