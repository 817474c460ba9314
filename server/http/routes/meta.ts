import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { checkReadiness } from '../../monitoring/readiness';

/** Liveness, readiness and the API description. */
export function metaRoutes(router: Router, deps: AppDeps): void {
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Answering at all is the proof of liveness: it asks nothing of the disk or the store.
  router.get('/health/live', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'live' };
  });
  router.get('/health/ready', async (ctx) => {
    const { store } = deps;
    const readiness = await checkReadiness({
      loading: () => deps.loading?.() ?? false,
      dirs: { 'data dir': store.dataDir, 'images folder': store.imagesDir, 'upload folder': store.tempRoot },
      // Read per request, so that a test may hand in a retention over a simulated disk.
      retention: () => deps.retention.status(),
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = readiness.status === 'ready' ? 200 : 503;
    ctx.body = readiness;
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = loadOpenApi().OPENAPI_DOCUMENT;
  });
}

/**
 * The OpenAPI document's module, loaded at the first GET /openapi.json: it is printed from the zod
 * schemas, and zod costs about 11 MB of RSS that a daemon never asked for its description need not pay.
 */
function loadOpenApi(): typeof import('../openapi') {
  return require('../openapi') as typeof import('../openapi');
}
