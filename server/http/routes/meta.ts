import Router from '@koa/router';
import { OPENAPI_DOCUMENT } from '../openapi';

/** Liveness and the API description. */
export function metaRoutes(router: Router): void {
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = OPENAPI_DOCUMENT;
  });
}
