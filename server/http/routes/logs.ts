import Router from '@koa/router';
import type { AppDeps } from '../../app';
import { LOG_RING_SIZE } from '../../logs/log-ring';
import { tooManyStreams } from '../../errors';
import { openEventStream } from '../event-stream';
import { renderPage } from '../page';
import { parseLimit } from '../parse-params';

/** Log streams open at once; each costs a socket and a buffer. */
const MAX_LOG_CLIENTS = 8;

/**
 * The recent log, as the original receiver offered it: GET /logs (JSON), GET /logs/stream
 * (Server-Sent Events: `log` per line, the newest 100 first) and /logs/viewer (a page over both).
 */
export function logRoutes(router: Router, deps: AppDeps): void {
  let clients = 0;

  router.get('/logs', (ctx) => {
    const logs = deps.logs.newest(parseLimit(ctx.query.limit, 100, LOG_RING_SIZE));
    ctx.body = { logs, count: logs.length, total_buffered: deps.logs.size };
  });

  router.get('/logs/stream', (ctx) => {
    if (clients >= MAX_LOG_CLIENTS) {
      throw tooManyStreams(clients, 'log streams');
    }
    const events = openEventStream(ctx);
    clients++;
    for (const entry of deps.logs.newest(parseLimit(ctx.query.limit, 100, LOG_RING_SIZE))) events.send('log', entry);
    const onLine = (entry: unknown): void => events.send('log', entry);
    deps.logs.on('line', onLine);
    events.onClose(() => {
      clients--;
      deps.logs.off('line', onLine);
    });
  });

  router.get('/logs/viewer', async (ctx) => {
    await renderPage(ctx, 'logs', { title: 'Logs', capacity: LOG_RING_SIZE });
  });
}
