import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { tooManyConnections } from '../errors';
import type { Logger } from '../log';
import { endLingering } from './close-after-answer';
import { rawErrorResponse } from './error-handler';

export interface ConnectionCapOptions {
  /** Connections at once from one client; a connection past it is answered 429 and closed. */
  maxPerClient: number;
  /** Where refusals are logged, one line a minute at most. */
  log: Logger;
}

/** What the cap holds now, for tests and status. */
export interface ConnectionCap {
  /** Open connections by client (see {@link clientOf}). */
  open(): ReadonlyMap<string, number>;
  /** Connections refused since the cap was attached. */
  refused(): number;
}

/** At most one log line about refusals this often, whatever a client does. */
const LOG_EVERY_MS = 60_000;

/**
 * Caps the connections one client (one IPv4 address, one IPv6 /64) may hold on `server` at once,
 * so that a client holding many slow connections cannot take every place under the server's
 * `maxConnections` from the others. A connection past the cap is answered `429
 * too_many_connections` at once, before the server parses a byte of it, and closed; it never
 * reaches the app.
 *
 * The server's own connection handling (its HTTP parser) is moved behind the check, so attach
 * this before the server accepts connections.
 */
export function capConnectionsPerClient(server: Server, options: ConnectionCapOptions): ConnectionCap {
  const open = new Map<string, number>();
  const answer = rawErrorResponse(tooManyConnections(options.maxPerClient));
  const accept = server.listeners('connection') as Array<(socket: Socket) => void>;
  let refused = 0;
  let unlogged = 0;
  let loggedAt = -Infinity;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const client = clientOf(socket.remoteAddress);
    const count = open.get(client) ?? 0;
    if (count >= options.maxPerClient) {
      refused++;
      unlogged++;
      refuse(socket, answer);
      if (performance.now() - loggedAt >= LOG_EVERY_MS) {
        options.log.warn(`refused ${unlogged} connection(s) past the cap of ${options.maxPerClient} per client; the latest from ${client}`);
        loggedAt = performance.now();
        unlogged = 0;
      }
      return;
    }
    open.set(client, count + 1);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left === 0) open.delete(client);
      else open.set(client, left);
    });
    for (const listener of accept) listener.call(server, socket);
  });
  return { open: () => open, refused: () => refused };
}

/**
 * Answers a refused connection and closes it. What the client sends meanwhile is read and
 * dropped: closing a socket with unread bytes resets the connection, which can lose the answer.
 */
function refuse(socket: Socket, answer: string): void {
  socket.on('error', () => undefined);
  socket.resume();
  endLingering(socket, answer);
}

/**
 * The client a remote address counts as: an IPv4 address (an IPv4-mapped IPv6 address as its
 * IPv4 form), or the /64 of an IPv6 address, since one host may pick any address in its /64.
 */
export function clientOf(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const [head, tail] = address.split('%')[0].toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
