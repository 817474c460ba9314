import type { Context } from 'koa';
import { bodyTooLarge, invalidJson, jsonBodyRequired, type ErrorCode } from '../errors';

export interface JsonBodyOptions {
  maxBytes: number;
  /** The code of the refusal of a body that is not JSON (invalid_settings for /config). */
  code: ErrorCode;
  /** An example body, quoted in that refusal. */
  hint: string;
}

/**
 * Reads a small JSON request body, counting while it streams. Only a body declared as
 * `application/json` is read: a page of another site may send `text/plain` without asking the
 * daemon first, but not JSON.
 * @throws AppError payload_too_large past `maxBytes`, `code` (with `error.fields._`) for a body
 * that is not JSON, unsupported_media_type when the type is not JSON.
 */
export async function readJson(ctx: Context, options: JsonBodyOptions): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw jsonBodyRequired();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > options.maxBytes) {
      // Answer without reading the rest of a body that is far too large.
      ctx.set('Connection', 'close');
      throw bodyTooLarge(options.maxBytes);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw invalidJson(options.code, options.hint);
  }
}
