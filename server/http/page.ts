import { join } from 'node:path';
import type { Context } from 'koa';
import { viewHelpers, VIEWS_DIR } from './view-helpers';

/**
 * Headers of every page: scripts, styles, images and the live stream only from this daemon
 * (no inline script or style, no CDN), no framing. No type sniffing is said on every answer
 * (request-origin.ts noSniff).
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
};

/** The dashboard's pages, for the navigation bar: path and title. */
export const NAV_PAGES = [
  { path: '/', title: 'Dashboard' },
  { path: '/upload_form', title: 'Upload' },
  { path: '/search', title: 'Search' },
  { path: '/config', title: 'Configuration' },
  { path: '/memory_status', title: 'Memory' },
  { path: '/logs/viewer', title: 'Logs' },
] as const;

/**
 * True when the client prefers an HTML page to JSON: a browser navigating. curl and fetch send
 * `Accept: *\/*`, which picks JSON, so scripts keep getting JSON from the same path.
 */
export function prefersHtml(ctx: Context): boolean {
  return ctx.accepts('json', 'html') === 'html';
}

/** Marks the request as a page, so that an error on the way is shown as an HTML page too. */
export function markPage(ctx: Context): void {
  ctx.state.page = true;
  ctx.vary('Accept');
}

/**
 * Renders `views/<view>.ejs` as the response, with the page headers. Templates are compiled once
 * and cached; `locals.title` names the page.
 */
export async function renderPage(ctx: Context, view: string, locals: { title: string } & Record<string, unknown>): Promise<void> {
  markPage(ctx);
  const html = await loadEjs().renderFile(join(VIEWS_DIR, `${view}.ejs`), { ...viewHelpers, nav: NAV_PAGES, path: ctx.path, origin: `${ctx.protocol}://${ctx.host}`, ...locals }, { cache: true });
  ctx.set(PAGE_HEADERS);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  ctx.body = html;
}

/** EJS, loaded by the first page rendered: a daemon that only receives images never needs it. */
function loadEjs(): typeof import('ejs') {
  return require('ejs') as typeof import('ejs');
}
