import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import { bodyTooSlow } from '../errors';

/** The slowest a request body may arrive. */
export interface BodyRateLimit {
  /** Bytes a second, averaged over {@link BodyRateLimit.windowMs}, below which a body is cut. */
  minBytesPerSecond: number;
  /** The span the rate is averaged over: a stall shorter than it is forgiven when made up for. */
  windowMs: number;
}

/** Readings of the connection's byte count per window. */
const SAMPLES_PER_WINDOW = 5;

/**
 * Watches the body of `req` arrive and calls `onTooSlow` once, with the rate seen, when fewer
 * than `minBytesPerSecond` arrived over the last `windowMs`. It reads the connection's byte count
 * and never touches the body's stream, so any reader may consume the body meanwhile. Only time
 * spent waiting for the client counts: while bytes already received wait in the request's buffer
 * for the daemon to read them, or while the event loop was held up, the window starts again.
 * @returns a function that stops the watch; it also stops once the body is complete.
 */
export function watchBodyRate(req: IncomingMessage, limit: BodyRateLimit, onTooSlow: (bytesPerSecond: number) => void): () => void {
  const socket = req.socket;
  const every = Math.max(20, Math.floor(limit.windowMs / SAMPLES_PER_WINDOW));
  let samples: Array<{ at: number; bytes: number }> = [];
  const sample = (): void => {
    if (req.complete || socket.destroyed) return stop();
    const now = { at: performance.now(), bytes: socket.bytesRead };
    const last = samples.at(-1);
    if (req.readableLength > 0 || (last && now.at - last.at > 2 * every)) {
      samples = [now];
      return;
    }
    samples.push(now);
    // Keep the newest sample that is a whole window old, and those after it.
    while (samples.length > 1 && now.at - samples[1].at >= limit.windowMs) samples.shift();
    const elapsed = now.at - samples[0].at;
    if (elapsed < limit.windowMs) return;
    const rate = ((now.bytes - samples[0].bytes) * 1000) / elapsed;
    if (rate < limit.minBytesPerSecond) {
      stop();
      onTooSlow(rate);
    }
  };
  const timer = setInterval(sample, every);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  sample();
  return stop;
}

/**
 * Cuts a request whose body arrives slower than `limit` with `408 request_timeout` (see
 * {@link watchBodyRate}), so that a client trickling bytes cannot hold a connection, a temp
 * folder and a place in the queue for the whole request timeout. The answer closes the
 * connection, and then the body is destroyed: whatever reads it fails and unwinds (an upload's
 * temp folder is removed) after the answer has gone.
 */
export function minBodyRate(limit: BodyRateLimit): Middleware {
  return async (ctx, next) => {
    if (!hasBody(ctx.req)) return next();
    let stop = (): void => undefined;
    let cut = false;
    const tooSlow = new Promise<never>((_resolve, reject) => {
      stop = watchBodyRate(ctx.req, limit, () => {
        cut = true;
        reject(bodyTooSlow(limit.minBytesPerSecond, limit.windowMs));
      });
    });
    const handled = next();
    // Once the request is cut, the handler still unwinds; its failure is expected and unanswered.
    handled.catch(() => undefined);
    try {
      await Promise.race([handled, tooSlow]);
    } catch (err) {
      // End the body for whatever reads it, once the 408 is out (at once if an answer was already
      // under way): after an answer Node no longer ends a request whose connection closes.
      if (cut && ctx.headerSent) ctx.req.destroy();
      else if (cut) ctx.res.once('close', () => ctx.req.destroy());
      throw err;
    } finally {
      stop();
    }
  };
}

/** Whether the request has a body still to come: a Content-Length above 0, or chunked. */
function hasBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
}
