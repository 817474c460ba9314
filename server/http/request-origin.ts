import type { Middleware } from 'koa';
import { crossOriginRefused, hostNotAllowed } from '../errors';
import { isOwnHost, isOwnOrigin, machineNames, parseHost } from './own-host';
import { READ_METHODS } from './auth';

/**
 * Sends `X-Content-Type-Options: nosniff` on every answer, errors included, so that a browser
 * never runs a JSON body or an image as a script or a page. Set before anything else runs: the
 * error handler keeps the headers already set.
 */
export function noSniff(): Middleware {
  return (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    return next();
  };
}

export interface HostCheckOptions {
  /** True when an API token is set: the token protects, and any Host is answered. */
  tokenSet: boolean;
  /** The operator's allowed_hosts, read per request. */
  allowedHosts: () => readonly string[];
}

/**
 * While no token is set, answers only requests addressed to this daemon by an IP address,
 * localhost, a `.local` name, one of this machine's names or an allowed_hosts name: a page that
 * reaches the daemon by rebinding a name of its own to the daemon's address carries that name in
 * Host. A request without Host (HTTP/1.0) is answered, since no browser sends one.
 * @throws AppError host_not_allowed (403), whose message says how to allow the name.
 */
export function refuseForeignHost(options: HostCheckOptions): Middleware {
  if (options.tokenSet) return (_ctx, next) => next();
  const machine = machineNames();
  const isKnown = (name: string) => machine.has(name) || options.allowedHosts().some((allowed) => normalizeName(allowed) === name);
  return (ctx, next) => {
    const header = ctx.get('Host');
    if (header === '') return next();
    const host = parseHost(header);
    if (host && isOwnHost(host, isKnown)) return next();
    throw hostNotAllowed(host?.name ?? header);
  };
}

/**
 * Refuses a change (any method but GET, HEAD and OPTIONS) sent by a page of another origin: its
 * `Origin` names another host or port than the request's Host, or is `null`; or, without Origin,
 * `Sec-Fetch-Site` says another site. Clients that send neither (cameras, curl, scripts) and the
 * daemon's own pages pass, token or not.
 * @throws AppError cross_origin_refused (403).
 */
export function refuseCrossOrigin(): Middleware {
  return (ctx, next) => {
    if (READ_METHODS.has(ctx.method)) return next();
    const origin = ctx.get('Origin');
    if (origin !== '') {
      if (!isOwnOrigin(origin, ctx.get('Host') || undefined)) throw crossOriginRefused(origin);
    } else if (FOREIGN_SITES.has(ctx.get('Sec-Fetch-Site'))) {
      throw crossOriginRefused(undefined);
    }
    return next();
  };
}

/** Sec-Fetch-Site values of a request a page of another origin made. */
const FOREIGN_SITES = new Set(['cross-site', 'same-site']);

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
