import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Context } from 'koa';
import { clientClosedEarly, type AppError } from '../errors';

export interface BodyLimit {
  /** Most bytes the body may have, counted as they arrive, chunked or not. */
  maxBytes: number;
  /** The refusal of a body past `maxBytes` (413 payload_too_large, worded for the route). */
  tooLarge: (maxBytes: number) => AppError;
}

/**
 * Hands `read` the request body as it arrives, through one byte counter: every body the daemon
 * reads (raw, multipart, JSON) passes here, so a body is refused at its limit whether it
 * declares a length or comes chunked, and none is ever held past it.
 *
 * On any failure of `read` the body is read no further; the error handler then closes the
 * connection once the client has its answer (close-after-answer.ts).
 * @throws AppError from `limit.tooLarge` past the limit, invalid_parameter when the client hangs
 * up early, and whatever `read` throws.
 */
export async function readBody<T>(ctx: Context, limit: BodyLimit, read: (body: Readable) => Promise<T>): Promise<T> {
  const declared = Number(ctx.get('Content-Length') || NaN);
  if (declared > limit.maxBytes) throw limit.tooLarge(limit.maxBytes);
  const req = ctx.req;
  // A client that left while the request waited (admission, the temp dir) has closed already:
  // its 'close' is past, and a pipe from it would wait forever.
  if (req.destroyed) throw clientClosedEarly();
  const counter = new ByteCounter(limit);
  // `read` sees the counter's errors through its own pipeline; a chunk already on its way when
  // that pipeline has let go must not become an uncaught error that ends the daemon.
  counter.on('error', () => undefined);
  const onClose = (): void => {
    if (!req.complete) counter.destroy(clientClosedEarly());
  };
  req.once('close', onClose);
  req.pipe(counter);
  try {
    return await read(counter);
  } catch (err) {
    req.unpipe(counter);
    counter.destroy();
    throw err;
  } finally {
    req.off('close', onClose);
  }
}

/** Passes bytes through until the limit, then fails the stream, so an oversized body is never kept whole. */
class ByteCounter extends Transform {
  private seen = 0;

  constructor(private readonly limit: BodyLimit) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit.maxBytes) done(this.limit.tooLarge(this.limit.maxBytes));
    else done(null, chunk);
  }
}
