// Capacity: bounded queues and streams, refused with a Retry-After rather than made to wait.
import { AppError } from '../errors';

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
