import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { photoLike } from '../helpers/fixtures';
import { startDaemon, type DaemonProcess } from '../helpers/daemon-process';
import { openSocket, readUntilClosed } from '../helpers/raw-http';

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
    for (let i = 0; i < 100 && (await readdir(join(dataDir, 'tmp'))).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await readdir(join(dataDir, 'tmp')), []);
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
