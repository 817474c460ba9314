import { describeInvalid, type FieldErrors } from '../errors';
import { checkValue, fieldDefaults, normalizeValue, type SettingSpec, type SettingValue } from '../setting-kinds';
import { DITHER_METHODS, MAX_PALETTE_COLOURS, PALETTES, type PaletteName } from './dither';
import { frameLimit, MAX_PANEL, panelTooLarge } from './frame-memory';

/** How a picture is laid on a panel; `auto` turns it when that shows more (see frame.ts). */
export const ROTATION_MODES = ['landscape', 'portrait', 'auto'] as const;
export type RotationMode = (typeof ROTATION_MODES)[number];

/** `contain` shows all of the picture and pads with the background; `cover` fills the panel and crops. */
export const FITS = ['contain', 'cover'] as const;
export type Fit = (typeof FITS)[number];

/** `on_store`: a consumer renders each new image's frame after commit; `on_request`: on first GET. */
export const RENDERS = ['on_store', 'on_request'] as const;
export type Render = (typeof RENDERS)[number];

/**
 * Real panels, by the name a profile gives as `"preset"`: it inherits their width, height and
 * palette; fields the profile gives itself win, so a panel mounted the other way round can swap
 * width and height.
 */
export const DISPLAY_PRESETS = {
  // Waveshare 13.3" Spectra 6 (E6), the ECAL panel.
  'waveshare-13in3-e6': { width: 1200, height: 1600, palette: 'spectra6' },
  // Pimoroni Inky Impression 7.3" (Spectra 6).
  'inky-impression-7in3': { width: 800, height: 480, palette: 'spectra6' },
  // Pimoroni Inky Impression 13.3" (Spectra 6).
  'inky-impression-13in3': { width: 1600, height: 1200, palette: 'spectra6' },
  // Pimoroni Inky Impression 5.7" (ACeP 7-colour).
  'inky-impression-5in7': { width: 600, height: 448, palette: 'acep7' },
} as const satisfies Record<string, { width: number; height: number; palette: PaletteName }>;

/** Display names become file and consumer names (data/frames/<name>/, display-<name>). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const COMMAND_EXPECTED = 'argv list of 1 to 64 non-empty strings (never a shell string)';

/** What the bounds of a side cannot say: its frame is rendered in the daemon's memory. */
const SIDE = {
  kind: 'integer', min: 8, max: 8192, unit: 'px',
  description: `At most ${MAX_PANEL.width}x${MAX_PANEL.height} pixels in all, and under a memory budget what it leaves beside the daemon`,
} as const;

const HEX_COLOUR = { kind: 'string', minLength: 7, maxLength: 7, pattern: /^#[0-9a-fA-F]{6}$/, expected: '#rrggbb colour' } as const;

/** One display panel: its size and palette, how a picture is laid on it, and how a frame is shown. */
export const DISPLAY_PROFILE = {
  kind: 'object', label: 'Display', expected: 'display profile object',
  description: 'A display panel, its frames and the command that shows them.',
  fields: {
    name: { kind: 'string', minLength: 1, maxLength: 32, pattern: NAME_PATTERN, expected: 'name of 1-32 lower-case letters, digits, - or _', description: 'Names its frames (/displays/<name>) and its consumer.' },
    preset: {
      kind: 'enum', values: Object.keys(DISPLAY_PRESETS), optional: true, fills: DISPLAY_PRESETS,
      description: 'Inherit width, height and palette from a real panel',
    },
    width: SIDE,
    height: SIDE,
    palette: {
      kind: 'oneOf', expected: `one of ${Object.keys(PALETTES).join(', ')} or a list of 2 to ${MAX_PALETTE_COLOURS} #rrggbb colours`,
      description: 'The colours the panel shows, in index order.',
      options: [
        { kind: 'enum', values: Object.keys(PALETTES) as PaletteName[], description: 'A palette named after its panels.' },
        { kind: 'list', minItems: 2, maxItems: MAX_PALETTE_COLOURS, item: { ...HEX_COLOUR, description: 'A colour.' }, description: 'The colours.' },
      ],
    },
    dither: { kind: 'enum', values: DITHER_METHODS, default: 'floyd-steinberg', description: 'How error is spread to a pixel\'s neighbours.' },
    fit: { kind: 'enum', values: FITS, default: 'cover', description: 'contain shows all of the picture; cover fills the panel and crops.' },
    rotation_mode: { kind: 'enum', values: ROTATION_MODES, default: 'auto', description: 'auto turns the picture when that shows more.' },
    background: { ...HEX_COLOUR, default: '#ffffff', description: 'What contain pads with.' },
    saturation: { kind: 'number', min: 0, max: 4, default: 1, description: 'Colour boost before dithering; 1 is none.' },
    render: { kind: 'enum', values: RENDERS, default: 'on_store', description: 'on_store: each new image\'s frame after commit; on_request: on first GET.' },
    command: {
      kind: 'list', minItems: 1, maxItems: 64, optional: true, operatorOnly: true, expected: COMMAND_EXPECTED,
      item: { kind: 'string', maxLength: 4096, description: 'One argument.' },
      description: 'argv; placeholders {frame} {image} {id} {source} {display}',
      // argv, never a shell string: its first part names the program.
      check: (argv, path) => (argv[0] === '' ? { '': describeInvalid(path, COMMAND_EXPECTED, argv) } : undefined),
    },
    command_timeout_s: { kind: 'integer', min: 1, max: 3600, unit: 's', default: 120, description: 'The command is ended after this long.' },
  },
  // Each side may be long, but the frame is rendered in the daemon: its pixels are capped so that
  // it fits the smallest supported device (frame-memory.ts; the budget is checked apart).
  check(profile, path) {
    const tooLarge = panelTooLarge(path, profile.width as number, profile.height as number, frameLimit(null));
    return tooLarge ? { '': tooLarge } : undefined;
  },
} as const satisfies SettingSpec;

/**
 * The `displays` setting: everything but `command` may be changed with POST /config; `command`
 * names a program, so only the operator's settings file, environment or flags may set it: a
 * runtime update never keeps one, and takes the operator's command of each display by name.
 */
export const DISPLAYS_SPEC = {
  kind: 'list', item: DISPLAY_PROFILE, maxItems: 16, key: 'name', expected: 'list of at most 16 display profiles',
  description: 'Display panels: name, preset or width/height/palette, dither, fit, rotation_mode, background, saturation, render; command (argv, operator-only) and command_timeout_s.',
} as const satisfies SettingSpec;

/** A display profile, complete: what the daemon works with. */
export type DisplayProfile = SettingValue<typeof DISPLAY_PROFILE>;

/** Defaults of the fields a profile may leave out. */
export const PROFILE_DEFAULTS = fieldDefaults(DISPLAY_PROFILE) as Partial<DisplayProfile>;

/** The fields of a profile that change its frames' pixels: frames are re-made when one changes. */
export function renderFingerprint(profile: DisplayProfile): string {
  const { width, height, palette, dither, fit, rotation_mode, background, saturation } = profile;
  return JSON.stringify({ width, height, palette, dither, fit, rotation_mode, background, saturation });
}

/**
 * Validates a `displays` value: every profile, every field, all reasons at once, keyed by path
 * (`displays[0].width`), in the one message shape. Returns the complete profiles when there is
 * no reason.
 */
export function validateDisplays(input: unknown): { profiles?: DisplayProfile[]; fields: FieldErrors } {
  const fields: FieldErrors = Object.create(null);
  checkValue(DISPLAYS_SPEC, input, 'displays', fields);
  return Object.keys(fields).length > 0 ? { fields } : { profiles: normalizeValue(DISPLAYS_SPEC, input) as DisplayProfile[], fields };
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
