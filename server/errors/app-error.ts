/**
 * The one error type and the catalog of its codes: the leaf every error factory in this folder
 * builds on (server/errors.ts re-exports it with them).
 */

/** Every error code a client can receive, with its HTTP status, grouped by subsystem. */
export const ERROR_CATALOG = {
  // request
  invalid_parameter: 400,
  invalid_settings: 400,
  unauthorized: 401,
  forbidden_setting: 403,
  cross_origin_refused: 403,
  host_not_allowed: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  headers_too_large: 431,
  // ingest
  payload_too_large: 413,
  too_many_pixels: 413,
  unsupported_media_type: 415,
  invalid_image: 422,
  // capacity
  too_many_connections: 429,
  busy: 503,
  insufficient_storage: 507,
  // anything unexpected
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Field-level reasons, for errors that concern several inputs at once (settings). */
export type FieldErrors = Record<string, string>;

export interface AppErrorOptions {
  /** Per-field reasons, sent to the client as `error.fields`. */
  fields?: FieldErrors;
  /** Extra response headers, such as Retry-After. */
  headers?: Record<string, string>;
  /** The underlying error, for the log only. */
  cause?: unknown;
}

/** An error whose code, status and message are meant for the client. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields?: FieldErrors;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOG[code];
    this.fields = options.fields;
    this.headers = options.headers;
  }

  /** True for errors the client caused (4xx), which are logged quietly. */
  get isClientError(): boolean {
    return this.status < 500;
  }
}

/**
 * The one message shape for a bad value: "Expected integer between 0 and 9 for
 * compression_quality but received 12 of type number". A `secret` value is not quoted.
 */
export function describeInvalid(name: string, expected: string, actual: unknown, secret = false): string {
  const shown = secret ? '(a credential, not shown)' : typeof actual === 'string' ? JSON.stringify(actual) : String(actual);
  return `Expected ${expected} for ${name} but received ${shown} of type ${typeOf(actual)}`;
}

/** An {@link AppError} for one bad request parameter. */
export function invalidParam(name: string, expected: string, actual: unknown): AppError {
  return new AppError('invalid_parameter', describeInvalid(name, expected, actual), {
    fields: { [name]: describeInvalid(name, expected, actual) },
  });
}

/** An {@link AppError} for an image id that names no stored image. */
export function imageNotFound(id: string): AppError {
  return new AppError('not_found', `No image with id ${JSON.stringify(id.slice(0, 64))}`);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
