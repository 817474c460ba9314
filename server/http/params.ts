import { invalidParam } from '../errors';
import { isImageId } from '../storage/image-store';

/** The checks of everything a client names in a query string, path or form field. */

const SOURCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A query or form value as Koa gives it. */
export type Raw = string | string[] | undefined;

/** One value of a parameter, undefined when absent or empty. @throws AppError for a repeated parameter. */
export function single(name: string, value: Raw): string | undefined {
  if (Array.isArray(value)) throw invalidParam(name, 'a single value', value);
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A camera or topic name: letters, digits, dot, dash and underscore, at most 64, so that it can
 * never name a path.
 */
export function parseSource(value: Raw, fallback: string): string;
export function parseSource(value: Raw): string | undefined;
export function parseSource(value: Raw, fallback?: string): string | undefined {
  const text = single('source', value);
  if (text === undefined) return fallback;
  if (!SOURCE_PATTERN.test(text)) throw invalidParam('source', `string matching ${SOURCE_PATTERN.source}`, text);
  return text;
}

/**
 * A message's frame_id made into a source name: characters a source cannot have become '-',
 * leading ones that are not a letter or digit are dropped, and it is cut at 64.
 * @throws AppError invalid_parameter when nothing of it is left.
 */
export function sourceFromFrameId(frameId: string): string {
  const source = frameId.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  if (!SOURCE_PATTERN.test(source)) {
    throw invalidParam('frame_id', `a frame_id that can become a source (letters or digits), or a ?source=`, frameId.slice(0, 64));
  }
  return source;
}

/** An ISO-8601 date or date-time, normalized to UTC; null when absent. */
export function parseCapturedAt(value: Raw): string | null {
  const text = single('captured_at', value);
  if (text === undefined) return null;
  const time = ISO_8601.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) throw invalidParam('captured_at', 'ISO-8601 date-time such as 2026-11-24T08:30:00Z', text);
  return new Date(time).toISOString();
}

/** A page size between 1 and `max`. */
export function parseLimit(value: Raw, fallback: number, max: number): number {
  const text = single('limit', value);
  if (text === undefined) return fallback;
  const limit = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(limit >= 1 && limit <= max)) throw invalidParam('limit', `integer between 1 and ${max}`, text);
  return limit;
}

/** An image id, as a cursor; ids are checked by shape so none can reach outside the data dir. */
export function parseCursor(value: Raw): string | undefined {
  const text = single('before', value);
  if (text !== undefined && !isImageId(text)) throw invalidParam('before', 'an image id from a previous page', text);
  return text;
}
