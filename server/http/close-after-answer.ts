import type { Socket } from 'node:net';
import type { Context } from 'koa';

/** How long a client that is still sending a refused body is given to read the answer. */
export const LINGER_MS = 2000;

/**
 * Closes the connection after the answer to a request whose body was not read to its end (a
 * refusal), without losing that answer.
 *
 * Node drops such a connection the moment the answer is out; a client still sending then gets
 * a TCP reset, which may discard the answer from its receive buffer before it reads it. So, as
 * Apache's and nginx's "lingering close" do, the connection is half-closed instead, what the
 * client still sends is read and discarded for {@link LINGER_MS}, and only then dropped.
 */
export function closeAfterAnswer(ctx: Context): void {
  ctx.set('Connection', 'close');
  const socket = ctx.req.socket;
  // Node's server calls destroySoon() once an answer marked Connection: close is written.
  socket.destroySoon = function lingeringClose(this: Socket): void {
    endLingering(this);
  };
  // The rest of the body flows to nowhere rather than filling the socket's buffers.
  ctx.req.resume();
}

/**
 * Half-closes `socket` after `last` (what is still to be written), lets the client go on sending
 * for {@link LINGER_MS} (whoever reads the socket discards it), then drops the connection, unless
 * the client closed it first.
 */
export function endLingering(socket: Socket, last?: string): void {
  if (socket.writable) socket.end(last ?? '', 'latin1');
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
