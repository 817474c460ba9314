// Request: routing, the API token, JSON bodies, and what escapes unexpectedly.
import { AppError, type ErrorCode } from '../errors';

/** 404 for a method and path no route answers. */
export function routeNotFound(method: string, path: string): AppError {
  return new AppError('not_found', `Nothing at ${method} ${path}`);
}

/** 404 for a dashboard asset that does not exist; the name is quoted and cut to 64 characters. */
export function staticFileNotFound(file: string): AppError {
  return new AppError('not_found', `No static file ${JSON.stringify(file.slice(0, 64))}`);
}

/** 500 for anything unexpected: it says nothing private, the cause goes to the log only. */
export function internalError(cause: unknown): AppError {
  return new AppError('internal_error', 'The server failed to handle the request', { cause });
}

/** 401 for a request that needs the API token and carries none; `read` as for {@link tokenRejected}. */
export function tokenRequired(read: boolean): AppError {
  return unauthorized('This request needs the API token: send Authorization: Bearer <token>', read);
}

/**
 * 401 for a wrong API token. A refused change (`read` false) also closes the connection, since
 * its body is not read.
 */
export function tokenRejected(read: boolean): AppError {
  return unauthorized('The API token is wrong', read, 'invalid_token');
}

function unauthorized(message: string, read: boolean, error?: string): AppError {
  const headers: Record<string, string> = {
    'WWW-Authenticate': `Bearer realm="pi-image-receiver"${error ? `, error="${error}"` : ''}`,
  };
  // A refused upload's body is not read: close rather than let Node drain it.
  if (!read) headers.Connection = 'close';
  return new AppError('unauthorized', message, { headers });
}

/** 415 for a body not declared as JSON (Content-Type: application/json) on a route that reads JSON. */
export function jsonBodyRequired(): AppError {
  return new AppError('unsupported_media_type', 'Expected a JSON body (Content-Type: application/json)');
}

/** 413 for a JSON body longer than `maxBytes`. */
export function bodyTooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', `This body is at most ${maxBytes} bytes`);
}

/** A body that does not parse as JSON, under the route's `code`, quoting an example body `hint`. */
export function invalidJson(code: ErrorCode, hint: string): AppError {
  return new AppError(code, `The body is not valid JSON; send a JSON object such as ${hint}`, {
    fields: { _: 'not valid JSON' },
  });
}
