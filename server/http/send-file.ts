import { createReadStream } from 'node:fs';
import type { Context } from 'koa';

/** A file whose content never changes under its ETag: on disk (path and size) or in memory. */
export type CachedFile = ({ path: string; bytes: number } | { body: Buffer }) & {
  type: string;
  /** A strong validator, quoted: `"<id>"`. */
  etag: string;
  cacheControl: string;
};

/** Sends a file with its validator, or answers 304 when the client already holds it. */
export function sendFile(ctx: Context, file: CachedFile): void {
  ctx.set('ETag', file.etag);
  ctx.set('Cache-Control', file.cacheControl);
  ctx.type = file.type;
  // ctx.fresh compares validators only for a 2xx response.
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  if ('body' in file) {
    ctx.body = file.body;
  } else {
    ctx.length = file.bytes;
    ctx.body = createReadStream(file.path);
  }
}
