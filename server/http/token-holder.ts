import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

/**
 * True when the request shows the API token, as `Authorization: Bearer` or, as reads may,
 * `?access_token=`; and always when no token is set, since everybody is the operator then.
 * For the answers that show more to a token holder than to any reader: reads pass without the
 * token unless require_token_for_reads, so the access check alone does not tell.
 */
export function holdsToken(ctx: Context, token: string | undefined): boolean {
  if (token === undefined) return true;
  const bearer = /^Bearer +(\S+) *$/i.exec(ctx.get('Authorization'))?.[1];
  const query = typeof ctx.query.access_token === 'string' ? ctx.query.access_token : undefined;
  const presented = bearer ?? query;
  // Hashing both sides gives equal lengths, so the comparison leaks neither content nor length.
  return presented !== undefined && timingSafeEqual(sha256(presented), sha256(token));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
