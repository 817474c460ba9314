import { z } from 'zod';
import { invalidParam } from '../../errors';
import { isImageId } from '../../storage/image-store';

/**
 * One value a client names in a query string or a path, declared once: the zod schema checks it
 * and prints its OpenAPI parameter, and `expected` is the one-message shape of its refusal.
 */
export interface ParamSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  in: 'query' | 'path';
  schema: S;
  /** What the refusal message says was expected: "Expected <expected> for <name> but received ...". */
  expected: string;
  description?: string;
  required?: boolean;
}

/** A camera or topic name: letters, digits, dot, dash and underscore, at most 64, so it never names a path. */
export const SOURCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `?source=`: a camera or topic name. */
export const SOURCE_PARAM = {
  name: 'source', in: 'query', description: 'Camera or topic name',
  schema: z.string().regex(SOURCE_PATTERN),
  expected: `string matching ${SOURCE_PATTERN.source}`,
} satisfies ParamSpec;

/** `?captured_at=`: an ISO-8601 date or date-time, normalized to UTC. */
export const CAPTURED_AT_PARAM = {
  name: 'captured_at', in: 'query', description: 'When the image was captured (ISO-8601)',
  schema: z.string().regex(ISO_8601)
    .refine((text) => !Number.isNaN(Date.parse(text)))
    .transform((text) => new Date(Date.parse(text)).toISOString()),
  expected: 'ISO-8601 date-time such as 2026-11-24T08:30:00Z',
} satisfies ParamSpec;

/** `?limit=`: a page size between 1 and `max`, digits only (no "1e2", no sign). */
export function limitParam(max: number, fallback: number) {
  return {
    name: 'limit', in: 'query',
    // Query values are strings; only plain digits become a number for the range check.
    schema: z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), z.int().min(1).max(max).meta({ default: fallback })),
    expected: `integer between 1 and ${max}`,
  } satisfies ParamSpec;
}

/** `?limit=` of GET /images. */
export const LIST_LIMIT_PARAM = limitParam(1000, 50);

/** `?before=`: the `next` cursor of the previous page; an id by shape, so it never reaches outside the data dir. */
export const BEFORE_PARAM = {
  name: 'before', in: 'query', description: 'The `next` cursor of the previous page',
  schema: z.string().refine(isImageId),
  expected: 'an image id from a previous page',
} satisfies ParamSpec;

/** `?confirm=all` of DELETE /images. */
export const CONFIRM_ALL_PARAM = {
  name: 'confirm', in: 'query', required: true,
  schema: z.literal('all'),
  expected: '"all" to delete every image',
} satisfies ParamSpec;

/** `{id}` of the image routes; an unknown id is a 404, not a bad parameter. */
export const ID_PARAM = { name: 'id', in: 'path', required: true, schema: z.string(), expected: 'an image id' } satisfies ParamSpec;

type Raw = string | string[] | undefined;

/**
 * Checks one raw query value against its declaration; an empty value counts as absent.
 * @throws AppError invalid_parameter in the one message shape, also for a repeated parameter.
 */
export function readParam<S extends z.ZodType>(spec: ParamSpec<S>, value: Raw): z.output<S> | undefined {
  if (Array.isArray(value)) throw invalidParam(spec.name, 'a single value', value);
  if (value === undefined || value === '') {
    if (spec.required) throw invalidParam(spec.name, spec.expected, value);
    return undefined;
  }
  const result = spec.schema.safeParse(value);
  if (!result.success) throw invalidParam(spec.name, spec.expected, value);
  return result.data;
}
