import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { headersTooLarge, malformedRequest, requestTimedOut, type AppError } from '../errors';
import { rawErrorResponse } from './error-handler';

/**
 * Answers what Node's HTTP parser refuses before the app sees a request (headers past Node's
 * 16 KiB limit, bytes that are not HTTP, a request too slow to arrive) in the daemon's error
 * shape, as JSON, rather than with Node's bare status line; then closes the connection. A
 * connection already reset, or one with an answer under way, is only closed.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const error = refusalFor(err);
    if (!error || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(rawErrorResponse(error));
  });
}

function refusalFor(err: NodeJS.ErrnoException): AppError | undefined {
  if (err.code === 'ECONNRESET') return undefined;
  if (err.code === 'HPE_HEADER_OVERFLOW') return headersTooLarge();
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestTimedOut();
  return malformedRequest(err.code ?? 'unknown');
}
