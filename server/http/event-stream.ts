import { PassThrough } from 'node:stream';
import type { Context } from 'koa';

/** A client that has not read this much of a stream is too slow to follow it, and is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** An open Server-Sent Events response. */
export interface EventStream {
  /** Sends one event; drops the client when it lags more than 1 MB behind. */
  send(event: string, data: unknown): void;
  /** Ends the response. */
  end(): void;
  /** Runs once the client has gone, however the response ended (unsubscribe here). */
  onClose(listener: () => void): void;
}

/**
 * Starts a Server-Sent Events response on `ctx`: no idle timeout, no buffering by proxies, and a
 * bound on what a slow client may hold in memory.
 */
export function openEventStream(ctx: Context): EventStream {
  const stream = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-store, no-transform');
  ctx.set('X-Accel-Buffering', 'no');
  // Koa destroys a body stream when the response ends, however it ends, which fires 'close'.
  ctx.body = stream;
  stream.write('retry: 3000\n\n');
  return {
    send(event, data) {
      if (stream.writableEnded || stream.destroyed) return;
      if (stream.writableLength > MAX_BUFFERED_BYTES) {
        ctx.res.destroy();
        return;
      }
      stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end: () => stream.end(),
    onClose: (listener) => stream.once('close', listener),
  };
}
