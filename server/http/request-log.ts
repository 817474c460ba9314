import type { Middleware } from 'koa';
import type { Logger } from '../log';

/**
 * One line per request, written when the handlers are done: method, path, status, time, bytes
 * sent, bytes received (when the client declared them), the upload's source and, for a refused
 * request, the error code and message. The query string and headers are left out, since they may
 * carry a token. Server errors log at error, health checks at debug, the rest at info.
 */
export function requestLog(log: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = (performance.now() - started).toFixed(0);
      const bytes = ctx.response.length ?? 0;
      const received = ctx.request.length ? ` in=${ctx.request.length}B` : '';
      const source = ctx.state.source ? ` source=${ctx.state.source}` : '';
      const rejection = ctx.state.rejection ? ` ${ctx.state.rejection}` : '';
      const line = `${ctx.method} ${ctx.path} ${ctx.status} ${ms}ms ${bytes}B${received}${source}${rejection}`;
      if (ctx.status >= 500) log.error(line);
      else if (ctx.status < 400 && (ctx.path === '/health' || ctx.path.startsWith('/health/') || ctx.path.startsWith('/static/'))) log.debug(line);
      else log.info(line);
    }
  };
}
