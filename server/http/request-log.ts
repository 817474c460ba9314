import type { Middleware } from 'koa';
import type { Logger } from '../log';

/**
 * One line per request, written when the response is done: method, path, status, time, bytes
 * sent and, for uploads, the source. The query string is left out, since it may carry a token.
 */
export function requestLog(log: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = (performance.now() - started).toFixed(0);
      const source = ctx.state.source ? ` source=${ctx.state.source}` : '';
      const bytes = ctx.response.length ?? 0;
      const line = `${ctx.method} ${ctx.path} ${ctx.status} ${ms}ms ${bytes}B${source}`;
      if (ctx.path === '/health' || ctx.path.startsWith('/static/')) log.debug(line);
      else log.info(line);
    }
  };
}
