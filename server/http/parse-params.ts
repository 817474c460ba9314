import { ROTATION_MODES, type RotationMode } from '../display/profiles';
import { invalidParam } from '../errors';
import { BEFORE_PARAM, CAPTURED_AT_PARAM, limitParam, readParam, SOURCE_PARAM, SOURCE_PATTERN } from './schemas/params';

/** The checks of everything a client names in a query string, path or form field (declared in schemas/params.ts). */

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
export function parseSource(value: Raw): string | undefined {
  return readParam(SOURCE_PARAM, value);
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

/** The original receiver's per-upload display fields, as kept in `record.options`. */
export interface DisplayImageOptions {
  rotation_mode?: RotationMode;
  /** true: fill the panel and crop (fit cover); false: show all and pad (fit contain). */
  auto_zoom?: boolean;
}

/**
 * Reads `rotation_mode` and `auto_zoom` from a query string or form fields, as the original's
 * POST /upload took them; absent fields are left out (the upload flow lets a form's win over the
 * query's).
 * @throws AppError invalid_parameter for a value that is not one of the allowed ones.
 */
export function parseDisplayOptions(fields: { rotation_mode?: Raw; auto_zoom?: Raw }): DisplayImageOptions {
  const options: DisplayImageOptions = {};
  const mode = single('rotation_mode', fields.rotation_mode);
  if (mode !== undefined) {
    if (!(ROTATION_MODES as readonly string[]).includes(mode)) throw invalidParam('rotation_mode', `one of ${ROTATION_MODES.join(', ')}`, mode);
    options.rotation_mode = mode as RotationMode;
  }
  const zoom = single('auto_zoom', fields.auto_zoom)?.toLowerCase();
  if (zoom !== undefined) {
    if (zoom !== 'true' && zoom !== 'false') throw invalidParam('auto_zoom', 'true or false', zoom);
    options.auto_zoom = zoom === 'true';
  }
  return options;
}
