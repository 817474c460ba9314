import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { prefersHtml } from '../page';
import { renderMemoryPage } from '../page-renderers';
import { fileResponse, jsonOrPageResponse, route } from '../documented-route';

/** The daemon's readings: JSON for scripts, the memory page for browsers, Prometheus metrics. */
export function monitoringRoutes(router: Router, deps: AppDeps): void {

  // The original receiver's path: JSON by default (curl, scripts), the live page for a browser.
  route(router, {
    method: 'get', path: '/memory_status',
    summary: 'Memory, CPU, libvips and processing counters, at most about a second old: JSON, or the live page for Accept: text/html',
    responses: {
      200: jsonOrPageResponse('The readings (JSON by default, so curl gets JSON), or the memory-status page when the client prefers text/html', 'MemoryStatus'),
    },
  }, async (ctx) => {
    ctx.vary('Accept');
    if (prefersHtml(ctx)) return renderMemoryPage(ctx, deps);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.monitor.status();
  });

  route(router, {
    method: 'get', path: '/metrics',
    summary: 'Prometheus metrics: default process metrics and image_receiver_* counters, histogram and gauges',
    responses: { 200: fileResponse('Prometheus text format 0.0.4', 'text/plain') },
  }, async (ctx) => {
    ctx.type = deps.monitor.metrics.contentType;
    ctx.body = await deps.monitor.metrics.text();
  });

}
