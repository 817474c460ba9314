import type { FieldErrors } from '../errors';
import { checkValue, normalizeValue } from '../setting-kinds';
import { DISPLAYS_SPEC, type DisplayProfile } from '../display-setting';
import { panelsOverBudget } from './frame-memory';

export {
  DISPLAY_PRESETS, DISPLAY_PROFILE, DISPLAYS_SPEC, FITS, NAME_PATTERN, PROFILE_DEFAULTS, RENDERS, ROTATION_MODES,
  type DisplayProfile, type Fit, type Render, type RotationMode,
} from '../display-setting';

/** The fields of a profile that change its frames' pixels: frames are re-made when one changes. */
export function renderFingerprint(profile: DisplayProfile): string {
  const { width, height, palette, dither, fit, rotation_mode, background, saturation } = profile;
  return JSON.stringify({ width, height, palette, dither, fit, rotation_mode, background, saturation });
}

/**
 * Validates a `displays` value: every profile, every field, all reasons at once, keyed by path
 * (`displays[0].width`), in the one message shape, and each panel against the largest frame. Returns the complete profiles when there is
 * no reason.
 */
export function validateDisplays(input: unknown): { profiles?: DisplayProfile[]; fields: FieldErrors } {
  const checked = checkProfiles(input);
  if (!checked.profiles) return checked;
  // Each side may be long, but a frame is rendered in the daemon: its pixels are capped so that it
  // fits the smallest supported device (frame-memory.ts; the settings store checks the same).
  const tooLarge = panelsOverBudget(checked.profiles, null);
  return tooLarge ? { fields: Object.assign(checked.fields, tooLarge) } : checked;
}

/** The profiles as the setting's spec checks and completes them. */
function checkProfiles(input: unknown): { profiles?: DisplayProfile[]; fields: FieldErrors } {
  const fields: FieldErrors = Object.create(null);
  checkValue(DISPLAYS_SPEC, input, 'displays', fields);
  return Object.keys(fields).length > 0 ? { fields } : { profiles: normalizeValue(DISPLAYS_SPEC, input) as DisplayProfile[], fields };
}

const normalized = new WeakMap<object, readonly DisplayProfile[]>();

/**
 * The complete profiles of a `displays` value: settings layers hold them normalized already, but
 * one handed in unvalidated (a test's layer) is completed here; an invalid one yields none. The
 * panel size is not checked here: the settings store's check refuses what cannot fit.
 */
export function completeProfiles(displays: readonly unknown[] | undefined): readonly DisplayProfile[] {
  if (!displays) return [];
  let profiles = normalized.get(displays);
  if (!profiles) {
    profiles = checkProfiles(displays).profiles ?? [];
    normalized.set(displays, profiles);
  }
  return profiles;
}
