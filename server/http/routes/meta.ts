import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { checkReadiness } from '../../monitoring/readiness';
import { documentedOperations, jsonResponse, route } from '../documented-route';

/** Liveness, readiness and the API description. */
export function metaRoutes(router: Router, deps: AppDeps): void {
  route(router, { method: 'get', path: '/health', summary: 'Liveness', responses: { 200: jsonResponse('Up', 'Health') } }, (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Answering at all is the proof of liveness: it asks nothing of the disk or the store.
  route(router, {
    method: 'get', path: '/health/live', summary: 'Liveness for a supervisor: answers while the process serves',
    responses: { 200: jsonResponse('Serving', 'Live') },
  }, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'live' };
  });
  route(router, {
    method: 'get', path: '/health/ready', summary: 'Readiness: whether an upload could be stored now',
    responses: {
      200: jsonResponse('Ready', 'Ready'),
      503: jsonResponse('Not ready: the store is loading, the data dir is not writable, or the disk is below min_free_disk_mb with nothing left to free', 'NotReady'),
    },
  }, async (ctx) => {
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
  // Collected at the first request, once every route module has declared its operations.
  let document: object | undefined;
  route(router, { method: 'get', path: '/openapi.json', summary: 'This document', responses: { 200: jsonResponse('OpenAPI 3.1', 'OpenApiDocument') } }, (ctx) => {
    document ??= loadOpenApi().openApiDocument(documentedOperations(router));
    ctx.body = document;
  });
}

/**
 * The OpenAPI collector, loaded at the first GET /openapi.json: it prints the zod schemas, and zod
 * costs about 11 MB of RSS that a daemon never asked for its description need not pay.
 */
function loadOpenApi(): typeof import('../openapi') {
  return require('../openapi') as typeof import('../openapi');
}
