import { invalidParam } from '../../errors';
import { isImageId } from '../../storage/image-store';

/**
 * One value a client names in a query string or a path, declared once: `read` checks it where it
 * enters, `schema` is its OpenAPI parameter schema, and `expected` is the one-message shape of its
 * refusal. Plain data, not zod: these run on nearly every request, and zod costs about 11 MB of
 * RSS that a daemon fed by cameras should not pay to check `?source=` (zod is for the documented
 * shapes and loads only with /openapi.json and the contract test).
 */
export interface ParamSpec<T = unknown> {
  name: string;
  in: 'query' | 'path';
  /** The JSON Schema of the raw value, as OpenAPI shows it. */
  schema: Readonly<Record<string, unknown>>;
  /** What the refusal message says was expected: "Expected <expected> for <name> but received ...". */
  expected: string;
  /** The value checked and normalized, or undefined when it does not fit. */
  read(text: string): T | undefined;
  description?: string;
  required?: boolean;
}

/** A string parameter that must match `pattern`. */
function patternParam(name: string, pattern: RegExp, more: Partial<ParamSpec<string>> = {}): ParamSpec<string> {
  return {
    name, in: 'query', schema: { type: 'string', pattern: pattern.source }, expected: `string matching ${pattern.source}`,
    read: (text) => (pattern.test(text) ? text : undefined), ...more,
  };
}

/** A camera or topic name: letters, digits, dot, dash and underscore, at most 64, so it never names a path. */
export const SOURCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `?source=`: a camera or topic name. */
export const SOURCE_PARAM = patternParam('source', SOURCE_PATTERN, { description: 'Camera or topic name' });

/** `?captured_at=`: an ISO-8601 date or date-time, normalized to UTC. */
export const CAPTURED_AT_PARAM = patternParam('captured_at', ISO_8601, {
  description: 'When the image was captured (ISO-8601)',
  expected: 'ISO-8601 date-time such as 2026-11-24T08:30:00Z',
  read: (text) => {
    const time = ISO_8601.test(text) ? Date.parse(text) : NaN;
    return Number.isNaN(time) ? undefined : new Date(time).toISOString();
  },
});

/** `?limit=`: a page size between 1 and `max`, digits only (no "1e2", no sign). */
export function limitParam(max: number, fallback: number): ParamSpec<number> {
  return {
    name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: max, default: fallback },
    expected: `integer between 1 and ${max}`,
    read: (text) => {
      const limit = /^\d+$/.test(text) ? Number(text) : NaN;
      return limit >= 1 && limit <= max ? limit : undefined;
    },
  };
}

/** `?limit=` of GET /images. */
export const LIST_LIMIT_PARAM = limitParam(1000, 50);

/** `?before=`: the `next` cursor of the previous page; an id by shape, so it never reaches outside the data dir. */
export const BEFORE_PARAM: ParamSpec<string> = {
  name: 'before', in: 'query', description: 'The `next` cursor of the previous page', schema: { type: 'string' },
  expected: 'an image id from a previous page',
  read: (text) => (isImageId(text) ? text : undefined),
};

/** `?day=`: a UTC day, as the time at the start of image ids says it. */
export const DAY_PARAM: ParamSpec<string> = {
  name: 'day', in: 'query', description: 'Only images stored on this day (UTC), YYYY-MM-DD', schema: { type: 'string', format: 'date' },
  expected: 'a day such as 2026-11-24',
  read: (text) => (/^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text) ? text : undefined),
};

/**
 * The bounds of a listing by ids for a UTC `day`, an older-than `before` cursor, or both: ids
 * begin with their time (20261124T011115123-…), so a day is the ids from its start to the next's.
 */
export function dayBounds(day: string | undefined, before: string | undefined): { from?: string; before?: string } {
  if (day === undefined) return { before };
  const compact = (time: number) => new Date(time).toISOString().slice(0, 10).replace(/-/g, '');
  const start = Date.parse(`${day}T00:00:00Z`);
  const end = `${compact(start + 86_400_000)}T`;
  return { from: `${compact(start)}T`, before: before !== undefined && before < end ? before : end };
}

/** `?confirm=all` of DELETE /images. */
export const CONFIRM_ALL_PARAM: ParamSpec<'all'> = {
  name: 'confirm', in: 'query', required: true, schema: { const: 'all' },
  expected: '"all" to delete every image',
  read: (text) => (text === 'all' ? text : undefined),
};

type Raw = string | string[] | undefined;

/**
 * Checks one raw query value against its declaration; an empty value counts as absent.
 * @throws AppError invalid_parameter in the one message shape, also for a repeated parameter.
 */
export function readParam<T>(spec: ParamSpec<T>, value: Raw): T | undefined {
  if (Array.isArray(value)) throw invalidParam(spec.name, 'a single value', value);
  if (value === undefined || value === '') {
    if (spec.required) throw invalidParam(spec.name, spec.expected, value);
    return undefined;
  }
  const read = spec.read(value);
  if (read === undefined) throw invalidParam(spec.name, spec.expected, value);
  return read;
}
