import { BEFORE_PARAM, CAPTURED_AT_PARAM, limitParam, readParam, SOURCE_PARAM } from './schemas/params';

/** The checks of everything a client names in a query string, path or form field (declared in schemas/params.ts). */

type Raw = string | string[] | undefined;

/**
 * A camera or topic name: letters, digits, dot, dash and underscore, at most 64, so that it can
 * never name a path.
 */
export function parseSource(value: Raw, fallback: string): string;
export function parseSource(value: Raw): string | undefined;
export function parseSource(value: Raw, fallback?: string): string | undefined {
  return readParam(SOURCE_PARAM, value) ?? fallback;
}

/** An ISO-8601 date or date-time, normalized to UTC; null when absent. */
export function parseCapturedAt(value: Raw): string | null {
  return readParam(CAPTURED_AT_PARAM, value) ?? null;
}

/** A page size between 1 and `max`. */
export function parseLimit(value: Raw, fallback: number, max: number): number {
  return readParam(limitParam(max, fallback), value) ?? fallback;
}

/** An image id, as a cursor; ids are checked by shape so none can reach outside the data dir. */
export function parseCursor(value: Raw): string | undefined {
  return readParam(BEFORE_PARAM, value);
}
