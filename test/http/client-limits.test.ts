import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { photoLike } from '../helpers/fixtures';
import { silentLogger } from '../../server/log';
import { openSocket, rawRequest, readUntilClosed } from '../helpers/raw-http';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { tempFolderEmptied } from '../helpers/daemon-process';

const PER_CLIENT = 3;

/** The JSON body of a raw HTTP answer. */
function bodyOf(answer: string): { error: { code: string; message: string } } {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
}

/** Polls `check` up to 100 times, 20 ms apart: for what a server does just after it answers. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(what);
}

describe('connections per client', () => {
  let app: TestApp;
  const warnings: string[] = [];
  before(async () => {
    app = await startTestApp({ maxConnectionsPerClient: PER_CLIENT, log: { ...silentLogger, warn: (line) => warnings.push(line) } });
  });
  after(() => app.destroy());

  it(`answers a client's connection past ${PER_CLIENT} with 429 and closes it, while another address is served`, async () => {
    const held = await Promise.all(Array.from({ length: PER_CLIENT }, () => openSocket(app.url, '127.0.0.1')));
    try {
      for (let i = 0; i < 3; i++) {
        const extra = await openSocket(app.url, '127.0.0.1');
        const answer = readUntilClosed(extra);
        extra.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        const text = await answer;
        assert.match(text, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
        assert.match(text, /\r\nConnection: close\r\n/i);
        assert.equal(bodyOf(text).error.code, 'too_many_connections');
      }
      // One line says so, however many are refused within the minute.
      assert.equal(warnings.filter((line) => line.includes('refused')).length, 1, warnings.join('\n'));
      assert.match(warnings[0], /127\.0\.0\.1/);
      assert.equal((await rawRequest(app.url, 'GET', '/health', {}, undefined, '127.0.0.2')).status, 200);
      assert.ok(held.every((socket) => !socket.destroyed), 'the first connections were still open then');
    } finally {
      for (const socket of held) socket.destroy();
    }
    // Their places are given back as they close.
    await eventually(async () => (await rawRequest(app.url, 'GET', '/health', {}, undefined, '127.0.0.1')).status === 200,
      'a connection from the same address is served once the others closed');
  });
});

describe('minimum body rate', () => {
  const RATE = { minBytesPerSecond: 1000, windowMs: 400 };
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ bodyRate: RATE });
  });
  after(() => app.destroy());

  /** Sends `head`, then `chunk` every `everyMs` until the server closes; resolves with its answer. */
  async function trickle(head: string, chunk: string, everyMs: number): Promise<string> {
    const socket: Socket = await openSocket(app.url);
    const answer = readUntilClosed(socket);
    socket.write(head, 'latin1');
    const timer = setInterval(() => { if (!socket.destroyed) socket.write(chunk, 'latin1'); }, everyMs);
    return answer.finally(() => clearInterval(timer));
  }

  async function assertCut(answer: string): Promise<void> {
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(answer, /\r\nConnection: close\r\n/i);
    assert.equal(bodyOf(answer).error.code, 'request_timeout');
    const list = await (await app.fetch('/images')).json() as { images: unknown[] };
    assert.deepEqual(list.images, []);
    // The route removes the request's temp folder as it unwinds, just after the socket closes.
    await tempFolderEmptied(app.dataDir);
  }

  it('cuts a raw upload arriving slower than the minimum with 408, and keeps none of it', async () => {
    const head = 'POST /images?source=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n\xff\xd8\xff';
    await assertCut(await trickle(head, 'x'.repeat(10), 100));
  });

  it('cuts a chunked multipart upload arriving slower than the minimum, and keeps none of it', async () => {
    const head = 'POST /images HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XX\r\nTransfer-Encoding: chunked\r\n\r\n';
    const part = '--XX\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff';
    const chunk = (text: string): string => `${text.length.toString(16)}\r\n${text}\r\n`;
    await assertCut(await trickle(head + chunk(part), chunk('x'.repeat(10)), 100));
  });

  it('cuts a JSON body arriving slower than the minimum, and applies none of it', async () => {
    const before = await (await app.fetch('/config')).json() as { max_stored_images: number };
    const body = JSON.stringify({ max_stored_images: before.max_stored_images + 1 });
    const head = `POST /config HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 1000}\r\n\r\n${body}`;
    await assertCut(await trickle(head, ' ', 100));
    const now = await (await app.fetch('/config')).json() as { max_stored_images: number };
    assert.equal(now.max_stored_images, before.max_stored_images);
  });

  it('stores an upload that arrives in small pieces faster than the minimum, over several windows', async () => {
    const jpeg = await photoLike(160, 120);
    const socket = await openSocket(app.url);
    const answer = readUntilClosed(socket);
    socket.write(`POST /images?source=steady HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nConnection: close\r\n\r\n`);
    // 400 bytes every 50 ms is 8000 bytes a second, 8 times the minimum.
    const pieces = Math.ceil(jpeg.length / 400);
    assert.ok(pieces * 50 > 2 * RATE.windowMs, `the upload spans more than two windows (${pieces} pieces)`);
    for (let i = 0; i < pieces; i++) {
      socket.write(jpeg.subarray(i * 400, (i + 1) * 400));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(await answer, /^HTTP\/1\.1 201 /);
  });
});
