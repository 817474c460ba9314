import { describeInvalid, type FieldErrors } from '../errors';
import {
  DITHER_METHODS, isPaletteName, MAX_PALETTE_COLOURS, PALETTES, parseHexColour,
  type DitherMethod, type PaletteSpec,
} from './dither';
import { frameLimit, panelTooLarge } from './frame-memory';

/** How a picture is laid on a panel; `auto` turns it when that shows more (see frame.ts). */
export const ROTATION_MODES = ['landscape', 'portrait', 'auto'] as const;
export type RotationMode = (typeof ROTATION_MODES)[number];

/** `contain` shows all of the picture and pads with the background; `cover` fills the panel and crops. */
export const FITS = ['contain', 'cover'] as const;
export type Fit = (typeof FITS)[number];

/** `on_store`: a consumer renders each new image's frame after commit; `on_request`: on first GET. */
export const RENDERS = ['on_store', 'on_request'] as const;
export type Render = (typeof RENDERS)[number];

/** A display profile, complete: what the daemon works with. */
export interface DisplayProfile {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly palette: PaletteSpec;
  readonly dither: DitherMethod;
  readonly fit: Fit;
  readonly rotation_mode: RotationMode;
  readonly background: string;
  readonly saturation: number;
  readonly render: Render;
  /** argv of the display command, never a shell string; operator-only. */
  readonly command?: readonly string[];
  readonly command_timeout_s: number;
}

/** A real panel's native size and palette, named so a profile can say `"preset": "..."`. */
export interface DisplayPreset {
  readonly width: number;
  readonly height: number;
  readonly palette: PaletteSpec;
  readonly description: string;
}

/**
 * Real panels. A profile naming a preset inherits its width, height and palette; fields the
 * profile gives itself win, so a panel mounted the other way round can swap width and height.
 */
export const DISPLAY_PRESETS: Readonly<Record<string, DisplayPreset>> = {
  'waveshare-13in3-e6': { width: 1200, height: 1600, palette: 'spectra6', description: 'Waveshare 13.3" Spectra 6 (E6), the ECAL panel' },
  'inky-impression-7in3': { width: 800, height: 480, palette: 'spectra6', description: 'Pimoroni Inky Impression 7.3" (Spectra 6)' },
  'inky-impression-13in3': { width: 1600, height: 1200, palette: 'spectra6', description: 'Pimoroni Inky Impression 13.3" (Spectra 6)' },
  'inky-impression-5in7': { width: 600, height: 448, palette: 'acep7', description: 'Pimoroni Inky Impression 5.7" (ACeP 7-colour)' },
};

/** Defaults of the optional fields. */
export const PROFILE_DEFAULTS = {
  dither: 'floyd-steinberg', fit: 'cover', rotation_mode: 'auto', background: '#ffffff',
  saturation: 1, render: 'on_store', command_timeout_s: 120,
} as const satisfies Partial<DisplayProfile>;

/** Display names become file and consumer names (data/frames/<name>/, display-<name>). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const FIELDS = new Set([
  'name', 'preset', 'width', 'height', 'palette', 'dither', 'fit', 'rotation_mode', 'background',
  'saturation', 'render', 'command', 'command_timeout_s',
]);
/** Bounds of the numeric fields, shared by validation and the docs; a panel's pixels are bounded too (frame-memory.ts, MAX_PANEL). */
export const PROFILE_LIMITS = {
  size: { min: 8, max: 8192 }, saturation: { min: 0, max: 4 }, command_timeout_s: { min: 1, max: 3600 },
  displays: 16, command_args: 64, arg_length: 4096,
} as const;

/** The fields of a profile that change its frames' pixels: frames are re-made when one changes. */
export function renderFingerprint(profile: DisplayProfile): string {
  const { width, height, palette, dither, fit, rotation_mode, background, saturation } = profile;
  return JSON.stringify({ width, height, palette, dither, fit, rotation_mode, background, saturation });
}

/**
 * Validates the `displays` setting: every profile, every field, all reasons at once, keyed by
 * path (`displays[0].width`), in the one message shape. Returns the complete profiles when there
 * is no reason.
 */
export function validateDisplays(input: unknown, path = 'displays'): { profiles?: DisplayProfile[]; fields: FieldErrors } {
  const fields: FieldErrors = Object.create(null);
  if (!Array.isArray(input) || input.length > PROFILE_LIMITS.displays) {
    fields[path] = describeInvalid(path, `list of at most ${PROFILE_LIMITS.displays} display profiles`, input);
    return { fields };
  }
  const profiles: DisplayProfile[] = [];
  const names = new Set<string>();
  input.forEach((item, i) => {
    const profile = validateProfile(item, `${path}[${i}]`, fields);
    if (!profile) return;
    if (names.has(profile.name)) fields[`${path}[${i}].name`] = `Display name ${profile.name} is used twice`;
    names.add(profile.name);
    profiles.push(profile);
  });
  return Object.keys(fields).length > 0 ? { fields } : { profiles, fields };
}

function validateProfile(item: unknown, at: string, fields: FieldErrors): DisplayProfile | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    fields[at] = describeInvalid(at, 'display profile object', item);
    return undefined;
  }
  const raw = item as Record<string, unknown>;
  const before = Object.keys(fields).length;
  const bad = (key: string, expected: string) => { fields[`${at}.${key}`] = describeInvalid(`${at}.${key}`, expected, raw[key]); };
  for (const key of Object.keys(raw)) {
    if (!FIELDS.has(key)) fields[`${at}.${key}`] = `Unknown display field ${key}; known fields are ${[...FIELDS].join(', ')}`;
  }
  let preset: DisplayPreset | undefined;
  if (raw.preset !== undefined) {
    preset = typeof raw.preset === 'string' && Object.hasOwn(DISPLAY_PRESETS, raw.preset) ? DISPLAY_PRESETS[raw.preset] : undefined;
    if (!preset) bad('preset', `one of ${Object.keys(DISPLAY_PRESETS).join(', ')}`);
  }
  const merged: Record<string, unknown> = { ...PROFILE_DEFAULTS, ...(preset ? { width: preset.width, height: preset.height, palette: preset.palette } : {}), ...raw };
  if (typeof merged.name !== 'string' || !NAME_PATTERN.test(merged.name)) bad('name', 'name of 1-32 lower-case letters, digits, - or _');
  let sidesValid = true;
  for (const key of ['width', 'height'] as const) {
    const v = merged[key];
    if (!Number.isInteger(v) || (v as number) < PROFILE_LIMITS.size.min || (v as number) > PROFILE_LIMITS.size.max) {
      bad(key, `integer between ${PROFILE_LIMITS.size.min} and ${PROFILE_LIMITS.size.max}${preset ? '' : ' (or a preset)'}`);
      sidesValid = false;
    }
  }
  if (sidesValid) {
    // Each side may be long, but the frame is rendered in the daemon: its pixels are capped so
    // that it fits the smallest supported device (frame-memory.ts; the budget is checked apart).
    const tooLarge = panelTooLarge(at, merged.width as number, merged.height as number, frameLimit(null));
    if (tooLarge) fields[at] = tooLarge;
  }
  if (!isPaletteSpec(merged.palette)) {
    bad('palette', `one of ${Object.keys(PALETTES).join(', ')} or a list of 2 to ${MAX_PALETTE_COLOURS} #rrggbb colours`);
  }
  checkOneOf(merged.dither, DITHER_METHODS, 'dither', bad);
  checkOneOf(merged.fit, FITS, 'fit', bad);
  checkOneOf(merged.rotation_mode, ROTATION_MODES, 'rotation_mode', bad);
  checkOneOf(merged.render, RENDERS, 'render', bad);
  if (!parseHexColour(merged.background)) bad('background', '#rrggbb colour');
  const { saturation: sat, command_timeout_s: timeout } = PROFILE_LIMITS;
  const saturation = merged.saturation;
  if (typeof saturation !== 'number' || !(saturation >= sat.min && saturation <= sat.max)) {
    bad('saturation', `number between ${sat.min} and ${sat.max}`);
  }
  const seconds = merged.command_timeout_s as number;
  if (!Number.isInteger(seconds) || seconds < timeout.min || seconds > timeout.max) {
    bad('command_timeout_s', `integer between ${timeout.min} and ${timeout.max} (seconds)`);
  }
  if (merged.command !== undefined && !isArgv(merged.command)) {
    bad('command', `argv list of 1 to ${PROFILE_LIMITS.command_args} non-empty strings (never a shell string)`);
  }
  if (Object.keys(fields).length > before) return undefined;
  delete merged.preset;
  return Object.freeze(merged) as unknown as DisplayProfile;
}

function checkOneOf(value: unknown, allowed: readonly string[], key: string, bad: (key: string, expected: string) => void): void {
  if (typeof value !== 'string' || !allowed.includes(value)) bad(key, `one of ${allowed.join(', ')}`);
}

function isPaletteSpec(value: unknown): value is PaletteSpec {
  if (isPaletteName(value)) return true;
  return Array.isArray(value) && value.length >= 2 && value.length <= MAX_PALETTE_COLOURS
    && value.every((colour) => parseHexColour(colour) !== undefined);
}

function isArgv(value: unknown): value is string[] {
  return Array.isArray(value) && value.length >= 1 && value.length <= PROFILE_LIMITS.command_args
    && value.every((arg) => typeof arg === 'string' && arg.length <= PROFILE_LIMITS.arg_length)
    && value[0] !== '';
}

const normalized = new WeakMap<object, readonly DisplayProfile[]>();

/**
 * The complete profiles of a `displays` value: settings layers hold them normalized already, but
 * one handed in unvalidated (a test's layer) is completed here; an invalid one yields none.
 */
export function completeProfiles(displays: readonly unknown[] | undefined): readonly DisplayProfile[] {
  if (!displays) return [];
  let profiles = normalized.get(displays);
  if (!profiles) {
    profiles = validateDisplays(displays).profiles ?? [];
    normalized.set(displays, profiles);
  }
  return profiles;
}
