import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { tooManyStreams } from '../../errors';
import type { HistoryPoint, MonitorStatus } from '../../monitoring/monitor';
import type { StoredImage } from '../../storage/image-store';
import { fileResponse, route } from '../documented-route';
import { openEventStream } from '../event-stream';
import { present } from '../present';

/** At most this many pages may follow the live stream at once; each costs a socket and a buffer. */
export const MAX_LIVE_CLIENTS = 32;

/**
 * GET /events: the live pages' Server-Sent Events stream. On connect: `history` (the chart
 * series so far) and `stats` (the latest readings); then `stats` and `point` at every sample,
 * about once a second, and `image` for every newly stored image.
 */
export function liveRoutes(router: Router, deps: AppDeps): void {
  let clients = 0;

  route(router, {
    method: 'get', path: '/events',
    summary: 'Server-Sent Events for the live pages: history and stats on connect, then stats and point about every second, image for each stored image',
    responses: { 200: fileResponse('An endless text/event-stream', 'text/event-stream') },
    refusals: { busy: 'too many live pages open' },
  }, async (ctx) => {
    if (clients >= MAX_LIVE_CLIENTS) {
      throw tooManyStreams(clients, 'live pages');
    }
    const { monitor } = deps;
    const first = await monitor.status();
    const events = openEventStream(ctx);
    const send = events.send;
    const onSample = (status: MonitorStatus, point: HistoryPoint): void => {
      send('stats', status);
      send('point', point);
    };
    const onStored = (image: StoredImage): void => send('image', present(image));
    const finish = (): void => events.end();
    clients++;
    monitor.on('sample', onSample);
    monitor.on('image', onStored);
    monitor.once('stop', finish);
    events.onClose(() => {
      clients--;
      monitor.off('sample', onSample);
      monitor.off('image', onStored);
      monitor.off('stop', finish);
    });
    send('history', monitor.history.toColumns());
    send('stats', first);
  });
}
