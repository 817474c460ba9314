// Capacity: bounded queues, streams and connections, refused with a Retry-After rather than made to
// wait; and a client too slow to keep its place.
import { AppError } from './app-error';

/** 503 when `open` streams of a kind ("live pages", "log streams") are already open. */
export function tooManyStreams(open: number, kind: string): AppError {
  return new AppError('busy', `Already ${open} ${kind} open; close one or retry later`, { headers: { 'Retry-After': '10' } });
}

/** 503 when the processing queue holds `backlog` images; retry after about `seconds`. */
export function queueFull(backlog: number, seconds: number): AppError {
  return new AppError('busy', `The processing queue is full (${backlog} images); retry in ${seconds} s`, {
    headers: { 'Retry-After': String(seconds) },
  });
}

/** 429 for a connection past the cap on connections from one client; it is closed after this answer. */
export function tooManyConnections(max: number): AppError {
  return new AppError('too_many_connections', `Already ${max} connections from this address; close one or retry later`, {
    headers: { 'Retry-After': '5' },
  });
}

/**
 * 408 for a request body arriving slower than `minBytesPerSecond` over `windowMs`: the request is
 * cut, and its connection closed.
 */
export function bodyTooSlow(minBytesPerSecond: number, windowMs: number): AppError {
  return new AppError('request_timeout',
    `The body arrived slower than ${minBytesPerSecond} bytes/s over ${windowMs / 1000} s; the request is cut`);
}
