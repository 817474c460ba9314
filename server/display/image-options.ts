import { invalidParam } from '../errors';
import { ROTATION_MODES, type RotationMode } from './profiles';

/** The original receiver's per-upload display fields, as kept in `record.options`. */
export interface DisplayImageOptions {
  rotation_mode?: RotationMode;
  /** true: fill the panel and crop (fit cover); false: show all and pad (fit contain). */
  auto_zoom?: boolean;
}

type Raw = string | string[] | undefined;

/**
 * Reads `rotation_mode` and `auto_zoom` from a query string or form fields (a later source wins),
 * as the original's POST /upload took them; absent fields are left out.
 * @throws AppError invalid_parameter for a value that is not one of the allowed ones.
 */
export function parseDisplayOptions(...sources: { rotation_mode?: Raw; auto_zoom?: Raw }[]): DisplayImageOptions {
  const options: DisplayImageOptions = {};
  for (const source of sources) {
    const mode = single('rotation_mode', source.rotation_mode);
    if (mode !== undefined) {
      if (!(ROTATION_MODES as readonly string[]).includes(mode)) throw invalidParam('rotation_mode', `one of ${ROTATION_MODES.join(', ')}`, mode);
      options.rotation_mode = mode as RotationMode;
    }
    const zoom = single('auto_zoom', source.auto_zoom)?.toLowerCase();
    if (zoom !== undefined) {
      if (zoom !== 'true' && zoom !== 'false') throw invalidParam('auto_zoom', 'true or false', zoom);
      options.auto_zoom = zoom === 'true';
    }
  }
  return options;
}

function single(name: string, value: Raw): string | undefined {
  if (Array.isArray(value)) throw invalidParam(name, 'a single value', value);
  return value === undefined || value === '' ? undefined : value;
}
