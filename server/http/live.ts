import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import type { AppDeps } from '../app';
import { AppError } from '../errors';
import type { HistoryPoint, MemoryStatus } from '../monitoring/monitor';
import type { StoredImage } from '../storage/image-store';
import { present } from './present';

/** At most this many pages may follow the live stream at once; each costs a socket and a buffer. */
export const MAX_LIVE_CLIENTS = 32;

/** A client that has not read this much of the stream is too slow to follow it, and is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * GET /events: the live pages' Server-Sent Events stream. On connect: `history` (the chart
 * series so far) and `stats` (the latest readings); then `stats` and `point` at every sample,
 * about once a second, and `image` for every newly stored image.
 */
export function liveRoutes(router: Router, deps: AppDeps): void {
  let clients = 0;

  router.get('/events', async (ctx) => {
    if (clients >= MAX_LIVE_CLIENTS) {
      throw new AppError('busy', `Already ${clients} live pages open; close one or retry later`, { headers: { 'Retry-After': '10' } });
    }
    const { monitor } = deps;
    const first = await monitor.status();
    const stream = new PassThrough();
    const send = (event: string, data: unknown): void => {
      if (stream.writableEnded || stream.destroyed) return;
      if (stream.writableLength > MAX_BUFFERED_BYTES) {
        // Closing the socket makes Koa destroy the stream, which unsubscribes below.
        ctx.res.destroy();
        return;
      }
      stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const onSample = (status: MemoryStatus, point: HistoryPoint): void => {
      send('stats', status);
      send('point', point);
    };
    const onStored = (image: StoredImage): void => send('image', present(image));
    const finish = (): void => {
      stream.end();
    };
    clients++;
    monitor.on('sample', onSample);
    monitor.on('image', onStored);
    monitor.once('stop', finish);
    stream.once('close', () => {
      clients--;
      monitor.off('sample', onSample);
      monitor.off('image', onStored);
      monitor.off('stop', finish);
    });

    // A live stream has no end: no idle timeout, and every event leaves at once.
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-store, no-transform');
    ctx.set('X-Accel-Buffering', 'no');
    // Koa destroys a body stream when the response ends, however it ends, which unsubscribes above.
    ctx.body = stream;
    stream.write('retry: 3000\n\n');
    send('history', monitor.history.toColumns());
    send('stats', first);
  });
}
