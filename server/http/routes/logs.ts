import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { LOG_RING_SIZE } from '../../log-ring';
import { tooManyStreams } from '../../errors';
import { openEventStream } from '../event-stream';
import { renderPage } from '../page';
import { parseLimit } from '../parse-params';
import { fileResponse, jsonResponse, pageResponse, route } from '../documented-route';
import { limitParam } from '../schemas/params';

/** Log streams open at once; each costs a socket and a buffer. */
const MAX_LOG_CLIENTS = 8;

const LIMIT_PARAM = { ...limitParam(LOG_RING_SIZE, 100), description: 'How many of the newest lines' };

/**
 * The recent log, as the original receiver offered it: GET /logs (JSON), GET /logs/stream
 * (Server-Sent Events: `log` per line, the newest 100 first) and /logs/viewer (a page over both).
 */
export function logRoutes(router: Router, deps: AppDeps): void {
  let clients = 0;

  route(router, {
    method: 'get', path: '/logs', summary: 'The newest log lines (secrets masked as in the journal), oldest first, from a ring of 1000',
    params: [LIMIT_PARAM],
    responses: { 200: jsonResponse('The lines', 'Logs') },
    refusals: { invalid_parameter: 'limit out of range' },
  }, (ctx) => {
    const logs = deps.logs.newest(parseLimit(ctx.query.limit, 100, LOG_RING_SIZE));
    ctx.body = { logs, count: logs.length, total_buffered: deps.logs.size };
  });

  route(router, {
    method: 'get', path: '/logs/stream',
    summary: 'Server-Sent Events: a `log` event per line (a LogEntry), the newest `limit` lines first, then each new line',
    params: [LIMIT_PARAM],
    responses: { 200: fileResponse('An event stream', 'text/event-stream') },
    refusals: { busy: 'too many log streams open' },
  }, (ctx) => {
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

  route(router, { method: 'get', path: '/logs/viewer', summary: 'A page that follows the log live', responses: { 200: pageResponse() } }, async (ctx) => {
    await renderPage(ctx, 'logs', { title: 'Logs', capacity: LOG_RING_SIZE });
  });
}
