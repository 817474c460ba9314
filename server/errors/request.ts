// Request: routing, the API token, JSON bodies, and what escapes unexpectedly.
import { AppError, type ErrorCode } from './app-error';

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

/** 401 for a request that needs the API token and carries none. */
export function tokenRequired(): AppError {
  return unauthorized('This request needs the API token: send Authorization: Bearer <token>');
}

/** 401 for a wrong API token. */
export function tokenRejected(): AppError {
  return unauthorized('The API token is wrong', 'invalid_token');
}

function unauthorized(message: string, error?: string): AppError {
  const headers: Record<string, string> = {
    'WWW-Authenticate': `Bearer realm="pi-image-receiver"${error ? `, error="${error}"` : ''}`,
  };
  return new AppError('unauthorized', message, { headers });
}

/**
 * 403 for a change sent by a page of another site: `from` is its Origin header, or undefined
 * when only Sec-Fetch-Site said so. Such a request's body is never read.
 */
export function crossOriginRefused(from: string | undefined): AppError {
  const page = from === undefined ? 'a page of another site' : `a page from ${JSON.stringify(from.slice(0, 64))}`;
  return new AppError('cross_origin_refused', `Refused a change sent by ${page}: only the daemon's own pages and clients that send no Origin header (cameras, curl, scripts) may change it`);
}

/**
 * 403 for a request addressed to a host name that is not this daemon's, while no API token is
 * set (a DNS-rebinding page would be); the message says how the operator allows the name.
 */
export function hostNotAllowed(host: string): AppError {
  const name = JSON.stringify(host.slice(0, 64));
  const list = JSON.stringify([host.slice(0, 64)]);
  return new AppError('host_not_allowed',
    `Host ${name} is not an address of this daemon and no API token is set. To reach it by that name, add it to allowed_hosts in the settings file (or ALLOWED_HOSTS='${list}', or --set 'allowed_hosts=${list}'), or set an API token`);
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

/** 400 for a JSON body that nests deeper than any body the daemon takes. */
export function jsonTooDeep(maxDepth: number): AppError {
  return new AppError('invalid_parameter', `The JSON body nests deeper than ${maxDepth} levels`);
}

/** 431 for request headers past Node's limit (16 KiB in all). */
export function headersTooLarge(): AppError {
  return new AppError('headers_too_large', 'The request headers are larger than 16 KiB in all');
}

/** 400 for bytes Node's HTTP parser cannot read as a request; `reason` is the parser's code. */
export function malformedRequest(reason: string): AppError {
  return new AppError('invalid_parameter', `The request is not well-formed HTTP/1.1 (${reason.slice(0, 40)})`);
}

/** 408 for a request whose headers or body did not arrive within the server's timeouts. */
export function requestTimedOut(): AppError {
  return new AppError('request_timeout', 'The request did not arrive in time');
}
