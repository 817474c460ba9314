import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/log';
import { LogRing, type LogEntry } from '../../server/log-ring';
import { startTestApp, type TestApp } from '../helpers/test-app';

describe('GET /logs', () => {
  let app: TestApp;
  const logs = new LogRing();
  const log = createLogger({ level: 'debug', journald: false, write: () => {}, tap: (entry) => logs.push(entry) });

  before(async () => {
    app = await startTestApp({ log, logs });
  });
  after(() => app.destroy());

  it('answers the newest lines as JSON, masked as the journal is', async () => {
    log.warn('a line naming mqtt://cam:hunter2-secret@broker');
    log.info('a client named /images?access_token=abc123');
    await app.fetch('/images');
    const body = await (await app.fetch('/logs?limit=1000')).json() as { logs: LogEntry[]; count: number; total_buffered: number };
    assert.equal(body.count, body.logs.length);
    // The request line of this very GET lands after the answer was made.
    assert.ok(body.total_buffered === body.count && body.count >= 2, JSON.stringify(body));
    const text = JSON.stringify(body.logs);
    assert.ok(body.logs.some((entry) => entry.level === 'warn' && entry.message === 'a line naming mqtt://cam:***@broker'));
    assert.ok(!text.includes('hunter2-secret') && !text.includes('abc123'), text);
    assert.ok(text.includes('access_token=***'), 'the credential is masked');
    assert.ok(body.logs.some((entry) => entry.message.startsWith('GET /images 200')), 'request lines land too');
    assert.ok(body.logs.every((entry) => !Number.isNaN(Date.parse(entry.timestamp))));
    const one = await (await app.fetch('/logs?limit=1')).json() as { logs: LogEntry[] };
    // The newest line is the request line of the GET before.
    assert.equal(one.logs.length, 1);
    assert.match(one.logs[0].message, /^GET \/logs 200 /);
    assert.equal((await app.fetch('/logs?limit=0')).status, 400);
  });

  it('keeps only the newest 1000 lines', () => {
    const ring = new LogRing();
    for (let i = 0; i < 1500; i++) ring.push({ timestamp: new Date(0).toISOString(), level: 'info', message: `line ${i}` });
    assert.equal(ring.size, 1000);
    const newest = ring.newest(5000);
    assert.equal(newest.length, 1000);
    assert.equal(newest[0].message, 'line 500');
    assert.equal(newest[999].message, 'line 1499');
  });

  it('streams recent and new lines as Server-Sent Events', async () => {
    log.info('before the stream');
    const controller = new AbortController();
    const res = await app.fetch('/logs/stream?limit=5', { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    log.info('after the stream opened');
    for (let i = 0; i < 50 && !text.includes('after the stream opened'); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    assert.match(text, /event: log\ndata: \{[^\n]*"message":"before the stream"/);
    assert.match(text, /"message":"after the stream opened"/);
  });

  it('serves the viewer page under the page headers', async () => {
    const res = await app.fetch('/logs/viewer', { headers: { Accept: 'text/html' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await res.text();
    assert.match(html, /<script src="\/static\/logs.js"><\/script>/);
    assert.doesNotMatch(html, /<script>/, 'no inline script');
  });
});
