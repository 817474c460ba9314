import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_LIVE_CLIENTS } from '../../server/http/routes/live';
import { HISTORY_SERIES } from '../../server/monitoring/monitor';
import { photoLike } from '../helpers/fixtures';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

interface ServerEvent { event: string; data: unknown }

/** Reads Server-Sent Events from a response body, one at a time. */
class EventReader {
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next event named `name`, skipping others; fails when the stream ends first. */
  async next(name: string): Promise<ServerEvent> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === name) return { event, data: JSON.parse(data!) };
        continue;
      }
      const { value, done } = await this.reader.read();
      if (done) throw new Error(`the stream ended before a ${name} event`);
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }
}

describe('GET /events', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.destroy());

  it('starts with the history and the stats, then pushes samples and stored images', async () => {
    const abort = new AbortController();
    // A stream that stops delivering fails the test rather than hanging it.
    const timer = setTimeout(() => abort.abort(), 20_000);
    try {
      const res = await app.fetch('/events', { signal: abort.signal, headers: { Accept: 'text/event-stream' } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const events = new EventReader(res.body!);
      const history = (await events.next('history')).data as Record<string, unknown[]>;
      assert.deepEqual(Object.keys(history).sort(), [...HISTORY_SERIES].sort());
      const stats = (await events.next('stats')).data as { memory_rss_mb: number };
      assert.ok(stats.memory_rss_mb > 0);
      const point = (await events.next('point')).data as { t: number; rss_mb: number };
      assert.ok(point.t > 0 && point.rss_mb > 0);

      const posted = await postImage(app, await photoLike(80, 60), '?source=live-cam');
      const { images: [image] } = await posted.json() as { images: Array<{ id: string }> };
      const pushed = (await events.next('image')).data as { id: string; source: string; url: string };
      assert.deepEqual([pushed.id, pushed.source, pushed.url], [image.id, 'live-cam', `/images/${image.id}`]);
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  });

  it(`lets at most ${MAX_LIVE_CLIENTS} pages follow at once, and frees a place when one leaves`, async () => {
    // HEAD answers without a body; it must not hold a place.
    for (let i = 0; i < 3; i++) assert.equal((await app.fetch('/events', { method: 'HEAD' })).status, 200);
    const open: AbortController[] = [];
    try {
      for (let i = 0; i < MAX_LIVE_CLIENTS; i++) {
        const abort = new AbortController();
        open.push(abort);
        const res = await app.fetch('/events', { signal: abort.signal });
        assert.equal(res.status, 200, `stream ${i + 1}`);
        await new EventReader(res.body!).next('stats');
      }
      const refused = await app.fetch('/events');
      assert.equal(refused.status, 503);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'busy');
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      open.pop()!.abort();
      // The server learns of the closed socket a moment later; ask again, a bounded number of times.
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        const abort = new AbortController();
        open.push(abort);
        status = (await app.fetch('/events', { signal: abort.signal })).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(status, 200, 'a place is free again once a page leaves');
    } finally {
      for (const abort of open) abort.abort();
    }
  });

  it('ends the stream when the daemon stops', async () => {
    const other = await startTestApp();
    try {
      const res = await other.fetch('/events');
      const events = new EventReader(res.body!);
      await events.next('stats');
      other.deps.monitor.stop();
      await assert.rejects(events.next('never'), /the stream ended/);
    } finally {
      await other.destroy();
    }
  });
});
