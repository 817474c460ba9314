import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from './log';
import type { LogRing } from './logs/log-ring';
import type { Displays } from './display/displays';
import type { FrameStore } from './display/frame-store';
import type { Monitor } from './monitoring/monitor';
import type { MqttService } from './mqtt/mqtt-service';
import type { Consumers } from './consumers/consumers';
import type { Thumbnails } from './pipeline/thumbnails';
import type { SettingsStore } from './settings';
import type { ImageStore } from './storage/image-store';
import type { Retention } from './storage/retention';
import type { Similarity } from './similarity/similarity';
import type { FeatureMatcher } from './similarity/feature-matcher';
import type { ImageProcessor } from './pipeline/image-processor';
import type { ImageRemoval } from './upload/image-removal';
import type { UploadFlow } from './upload/upload-flow';
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

/** What the HTTP layer is built over; tests hand in a store on a temporary folder. */
export interface AppDeps {
  settings: SettingsStore;
  store: ImageStore;
  /** The upload use case: every way in hands it files on disk. */
  flow: UploadFlow;
  /** Removes images so that observers and consumers hear of it. */
  removal: ImageRemoval;
  /** The dashboard's thumbnails, derived files of the store. */
  thumbnails: Thumbnails;
  /** The durable consumers and their states. */
  consumers: Consumers;
  /** The MQTT side: its status is on /memory_status; stop it when the daemon stops. */
  mqtt: MqttService;
  /** Live readings, counters and metrics; stop it when the daemon stops. */
  monitor: Monitor;
  /** Keeps the store within its limits; its status() is for /memory_status and the dashboard. */
  retention: Retention;
  /** Similar images, search and near-duplicates by perceptual hash (issue 11); stop() it with the daemon. */
  similarity: Similarity;
  /** Local-feature comparison in an OpenCV worker started on demand; close() it with the daemon. */
  features: FeatureMatcher;
  /** The image worker that runs the pipeline; ended at stop. */
  images: ImageProcessor;
  log: Logger;
  /** The newest log lines, masked, for GET /logs (issue 10). */
  logs: LogRing;
  /** Display frames and panels (issue 10). */
  frames: FrameStore;
  displays: Displays;
  /** The API token changes need (and reads, when require_token_for_reads); none when undefined. */
  apiToken?: string;
  /** True while the store is still loading, for GET /health/ready; absent once it is loaded. */
  loading?: () => boolean;
}

/** Every route of the app on one router, so that 405s are right and the OpenAPI test sees them all. */
export function createRouter(deps: AppDeps): Router {
  const router = new Router();
  metaRoutes(router, deps);
  imageRoutes(router, deps);
  similarityRoutes(router, deps);
  compareRoutes(router, deps);
  configRoutes(router, deps);
  // Monitoring and the dashboard (issue 3).
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
