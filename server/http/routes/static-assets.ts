import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import Router from '@koa/router';
import { staticFileNotFound } from '../../errors';
import { fileResponse, NOT_MODIFIED, route } from '../documented-route';
import { sendFile } from '../send-file';
import { VIEWS_DIR } from '../view-helpers';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The files /static/ may serve, by name: the page scripts and stylesheet in views/static, and the
 * chart library from its npm package, so that the dashboard loads nothing from the internet.
 */
function assetFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(join(VIEWS_DIR, 'static'))) {
    if (TYPES[extname(name)]) files.set(name, join(VIEWS_DIR, 'static', name));
  }
  files.set('uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js'));
  files.set('uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'));
  return files;
}

interface Asset {
  body: Buffer;
  etag: string;
  type: string;
}

/** GET /static/:file: the dashboard's scripts and stylesheets, read once and kept (about 80 KB); and GET /favicon.ico. */
export function staticRoutes(router: Router): void {
  const files = assetFiles();
  const loaded = new Map<string, Asset>();

  route(router, {
    method: 'get', path: '/static/:file',
    summary: 'The pages\' scripts and stylesheets, and the chart library (uPlot) from its npm package',
    responses: { 200: fileResponse('The file', 'text/javascript', 'text/css'), 304: NOT_MODIFIED },
    refusals: { not_found: 'no such file' },
  }, (ctx) => {
    const path = files.get(ctx.params.file);
    if (!path) throw staticFileNotFound(ctx.params.file);
    // Revalidated at every load, so that a new version of the daemon is never run with old scripts.
    sendFile(ctx, { ...load(path, TYPES[extname(path)]), cacheControl: 'no-cache' });
  });

  // Browsers ask for it on every site; without it the dashboard's console shows a 404.
  route(router, {
    method: 'get', path: '/favicon.ico', summary: 'The site icon, so that a browser\'s automatic request finds one',
    responses: { 200: fileResponse('A 32 px icon (PNG in ICO)', 'image/x-icon'), 304: NOT_MODIFIED },
  }, (ctx) => {
    sendFile(ctx, { ...load(join(VIEWS_DIR, 'static', 'favicon.ico'), 'image/x-icon'), cacheControl: 'public, max-age=86400' });
  });

  function load(path: string, type: string): Asset {
    let asset = loaded.get(path);
    if (!asset) {
      const body = readFileSync(path);
      asset = { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
      loaded.set(path, asset);
    }
    return asset;
  }
}
