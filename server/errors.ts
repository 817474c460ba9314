/**
 * The one error type of the daemon and the catalog of its codes.
 *
 * Every failure a client can cause or see is an {@link AppError} with a code from {@link ERROR_CATALOG};
 * the HTTP layer maps it to a status in one place. Anything else that escapes is an internal error
 * whose details are logged, never sent.
 *
 * What a client is told is written here too, once: one small factory per refusal, grouped by
 * subsystem in server/errors/ and re-exported below, so that a message is reviewed in one place
 * and two sites that refuse the same thing say it the same way.
 */

export * from './errors/app-error';
export * from './errors/request';
export * from './errors/ingest';
export * from './errors/raw-frames';
export * from './errors/similarity';
export * from './errors/labels';
export * from './errors/display';
export * from './errors/capacity';
export * from './errors/storage';
export * from './errors/settings';
