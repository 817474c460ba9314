import Koa from 'koa';
import Router from '@koa/router';
import type { AppDeps } from './app-deps';
import { requireToken } from './http/auth';
import { errorHandler } from './http/error-handler';
import { minBodyRate, type BodyRateLimit } from './http/min-body-rate';
import { requestLog } from './http/request-log';
import { noSniff, refuseCrossOrigin, refuseForeignHost } from './http/request-origin';
import { configRoutes } from './http/routes/config';
import { imageRoutes } from './http/routes/images';
import { similarityRoutes } from './http/routes/similarity';
import { compareRoutes } from './http/routes/compare';
import { metaRoutes } from './http/routes/meta';
import { liveRoutes } from './http/routes/live';
import { logRoutes } from './http/routes/logs';
import { displayRoutes } from './http/routes/displays';
import { monitoringRoutes } from './http/routes/monitoring';
import { pageRoutes } from './http/routes/pages';
import { staticRoutes } from './http/routes/static-assets';
import { thumbnailRoutes } from './http/routes/thumbnails';

/** Every route of the app on one router, so that 405s are right and the OpenAPI test sees them all. */
export function createRouter(deps: AppDeps): Router {
  const router = new Router();
  metaRoutes(router, deps);
  imageRoutes(router, deps);
  similarityRoutes(router, deps);
  compareRoutes(router, deps);
  configRoutes(router, deps);
  // Monitoring and the dashboard.
  thumbnailRoutes(router, deps);
  monitoringRoutes(router, deps);
  liveRoutes(router, deps);
  logRoutes(router, deps);
  displayRoutes(router, deps);
  pageRoutes(router, deps);
  staticRoutes(router);
  return router;
}

/** How the app bounds its clients, from the daemon's options rather than the runtime settings. */
export interface AppOptions {
  /** The slowest a request body may arrive; no floor when absent. */
  bodyRate?: BodyRateLimit;
}

/** Builds the Koa app over its dependencies; it never listens (main.ts does). */
export function createApp(deps: AppDeps, options: AppOptions = {}): Koa {
  const app = new Koa();
  // Errors are rendered by errorHandler; Koa's default printer would log them a second time.
  app.silent = true;
  app.use(noSniff());
  app.use(requestLog(deps.log));
  app.use(errorHandler(deps.log));
  if (options.bodyRate) app.use(minBodyRate(options.bodyRate));
  // Who may ask, before what is asked: the Host (DNS rebinding), the page (cross-site), the token.
  app.use(refuseForeignHost({ tokenSet: deps.apiToken !== undefined, allowedHosts: () => deps.settings.get().allowed_hosts }));
  app.use(refuseCrossOrigin());
  app.use(requireToken({ token: deps.apiToken, requireForReads: () => deps.settings.get().require_token_for_reads }));
  const router = createRouter(deps);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
