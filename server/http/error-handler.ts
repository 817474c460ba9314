import { STATUS_CODES } from 'node:http';
import type { Context, Middleware } from 'koa';
import { AppError, internalError, routeNotFound, type ErrorCode } from '../errors';
import type { Logger } from '../log';
import { closeAfterAnswer } from './close-after-answer';
import { prefersHtml, renderPage } from './page';
import { asDiskError } from '../storage/disk-errors';

/** Statuses Koa's own helpers (ctx.throw, body parsers) may raise, as catalog codes. */
const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_parameter',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * The one place errors become responses: `{"error": {"code", "message"}}` with the catalog's
 * status, or an HTML error page for a browser on a page (or on a path that does not exist).
 * A client error's code and message go on the request's log line (ctx.state.rejection, see
 * request-log.ts); anything unexpected becomes a 500 that says nothing private, and its details
 * go to the log at error.
 */
export function errorHandler(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw routeNotFound(ctx.method, ctx.path);
      }
    } catch (err) {
      const error = toAppError(err);
      ctx.state.rejection = `${error.code}: ${error.message}`;
      if (!error.isClientError) log.error(`${ctx.method} ${ctx.path} failed: ${describeCause(err)}`);
      if (wantsErrorPage(ctx, error)) await renderErrorPage(ctx, error);
      else render(ctx, error);
      // A refused body is not read on: the connection closes once the client has the answer.
      if (!ctx.req.complete) closeAfterAnswer(ctx);
    }
  };
}

/**
 * Any thrown value as an AppError: a full disk becomes 507 insufficient_storage, other unknown
 * errors internal_error with a generic message.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const disk = asDiskError(err);
  if (disk) return disk;
  const status = (err as { status?: number }).status;
  const expose = (err as { expose?: boolean }).expose;
  const code = status === undefined ? undefined : CODE_FOR_STATUS[status];
  if (code && expose) return new AppError(code, (err as Error).message, { cause: err });
  return internalError(err);
}

function render(ctx: Context, error: AppError): void {
  ctx.status = error.status;
  for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
  ctx.body = errorBody(error);
}

function errorBody(error: AppError): { error: { code: string; message: string; fields?: Record<string, string> } } {
  const body: { code: string; message: string; fields?: Record<string, string> } = {
    code: error.code,
    message: error.message,
  };
  if (error.fields) body.fields = error.fields;
  return { error: body };
}

/**
 * The JSON answer to `error` as the bytes of a whole HTTP/1.1 response that closes the
 * connection: for a refusal made on a connection before any request on it is parsed.
 */
export function rawErrorResponse(error: AppError): string {
  const body = JSON.stringify(errorBody(error));
  const headers = {
    ...error.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Content-Type-Options': 'nosniff',
    Connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n${lines}\r\n${body}`;
}

const BEFORE_ROUTE_PAGES: ReadonlySet<ErrorCode> = new Set(['not_found', 'unauthorized', 'host_not_allowed']);

function wantsErrorPage(ctx: Context, error: AppError): boolean {
  // Raised before any route ran: a path that does not exist, a page refused for want of the
  // API token (whose error page asks for it), or a page asked for by a host name not allowed.
  const beforeRoute = ctx._matchedRoute === undefined && BEFORE_ROUTE_PAGES.has(error.code);
  return (ctx.state.page === true || beforeRoute) && prefersHtml(ctx);
}

/** The error as a page; if even that fails, the JSON body is still owed. */
async function renderErrorPage(ctx: Context, error: AppError): Promise<void> {
  try {
    await renderPage(ctx, 'error', { title: `${error.status} ${error.code.replace(/_/g, ' ')}`, error });
    ctx.status = error.status;
    for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
  } catch {
    render(ctx, error);
  }
}

function describeCause(err: unknown): string {
  if (err instanceof AppError && err.cause !== undefined) return `${err.message}: ${describeCause(err.cause)}`;
  return err instanceof Error ? err.stack ?? err.message : String(err);
}
