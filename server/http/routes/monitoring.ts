import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { prefersHtml } from '../page';
import { renderMemoryPage } from '../page-renderers';

/** The daemon's readings: JSON for scripts, the memory page for browsers, Prometheus metrics. */
export function monitoringRoutes(router: Router, deps: AppDeps): void {

  // The original receiver's path: JSON by default (curl, scripts), the live page for a browser.
  router.get('/memory_status', async (ctx) => {
    ctx.vary('Accept');
    if (prefersHtml(ctx)) return renderMemoryPage(ctx, deps);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.monitor.status();
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.monitor.metrics.contentType;
    ctx.body = await deps.monitor.metrics.text();
  });

}
