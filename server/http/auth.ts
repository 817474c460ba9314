import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { tokenRejected, tokenRequired } from '../errors';

/**
 * What anyone may read even when reads need the token: liveness, and what a browser must load
 * before the dashboard can ask for the token. Extend it here when a page or asset is added.
 */
export const PUBLIC_READS = {
  paths: new Set(['/health', '/health/live', '/health/ready', '/favicon.ico']),
  prefixes: ['/static/'],
};

/** Methods that only read; every other method changes state and always needs the token. */
export const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AccessOptions {
  /** The API token; when undefined, every request is let through. */
  token: string | undefined;
  /** Read per request, so that a change of require_token_for_reads applies at once. */
  requireForReads: () => boolean;
}

/**
 * Lets a request through only with `Authorization: Bearer <token>` when a token is set: always
 * for changes, and for reads when `requireForReads()`. Reads may carry the token as
 * `?access_token=` instead, since EventSource and <img> cannot send headers.
 * @throws AppError unauthorized (401, with WWW-Authenticate) otherwise.
 */
export function requireToken(options: AccessOptions): Middleware {
  const token = options.token;
  if (token === undefined) return (_ctx, next) => next();
  return async (ctx, next) => {
    const read = READ_METHODS.has(ctx.method);
    if (read && (!options.requireForReads() || isPublicRead(ctx.path))) return next();
    const presented = presentedToken(ctx, read);
    if (presented === undefined) {
      throw tokenRequired();
    }
    if (!sameToken(presented, token)) {
      throw tokenRejected();
    }
    await next();
  };
}

/**
 * True when the request shows the API token (as a read may: header or query); always when no
 * token is set, since everybody is the operator then. For answers that show more to a token
 * holder than to any reader: reads pass without the token unless require_token_for_reads, so
 * the access check alone does not tell.
 */
export function holdsToken(ctx: Context, token: string | undefined): boolean {
  if (token === undefined) return true;
  const presented = presentedToken(ctx, true);
  return presented !== undefined && sameToken(presented, token);
}

/** `Authorization: Bearer <token>`, or for a read `?access_token=`. */
function presentedToken(ctx: Context, read: boolean): string | undefined {
  return bearerToken(ctx.get('Authorization')) ?? (read ? queryToken(ctx.query.access_token) : undefined);
}

/** Hashing both sides gives equal lengths, so timingSafeEqual leaks neither content nor length. */
function sameToken(presented: string, token: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(token));
}

/** Plain asset paths only: a prefix must not let `/static/../images` or `%2e%2e` through. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/;

function isPublicRead(path: string): boolean {
  if (PUBLIC_READS.paths.has(path)) return true;
  return PLAIN_PATH.test(path) && !path.includes('..') && PUBLIC_READS.prefixes.some((prefix) => path.startsWith(prefix));
}

function bearerToken(header: string): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : undefined;
}

function queryToken(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
