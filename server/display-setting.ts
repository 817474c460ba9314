import { describeInvalid } from './errors';
import { fieldDefaults, type SettingSpec, type SettingValue } from './setting-kinds';

/**
 * The `displays` setting as it is declared, with the data it names (panels, palettes, dithering):
 * at the base beside the other settings, so that settings know nothing of how frames are made
 * (server/display/). The frame's memory is checked where it is known: server/display/frame-memory.ts.
 */

/** A width and a height in pixels. */
export interface PanelSize {
  width: number;
  height: number;
}

/**
 * The largest panel on any device, in pixels: 4096x4096 (16.8 megapixels, or 5461x3072 at 16:9),
 * whose frame needs about 99 MB. On the smallest supported device, a 512 MB Pi under the unit's
 * MemoryHigh=256M and MemoryMax=320M, that fits beside the daemon at rest, its image worker and a
 * 12 MP upload in flight. Real e-paper panels are 0.3-3.7 megapixels (800x480 to 2560x1440).
 */
export const MAX_PANEL: Readonly<PanelSize> = { width: 4096, height: 4096 };

/** The palettes named after panels; any other palette is a list of `#rrggbb`. */
export const PALETTES = {
  // Spectra 6 (E6) panels: Waveshare 13.3" E6, Pimoroni Inky Impression 7.3" (2025). Their drivers
  // take these nominal values and map them to the inks themselves.
  spectra6: ['#000000', '#ffffff', '#ffff00', '#ff0000', '#0000ff', '#00ff00'],
  // ACeP 7-colour (Inky Impression 5.7"/7.3" 2023, Waveshare 5.65"): Spectra 6 plus orange.
  acep7: ['#000000', '#ffffff', '#ffff00', '#ff0000', '#0000ff', '#00ff00', '#ff8000'],
  bw: ['#000000', '#ffffff'],
  // 2-bit grey panels: four levels evenly spaced in sRGB values, as their drivers expect.
  gray4: ['#000000', '#555555', '#aaaaaa', '#ffffff'],
} as const satisfies Record<string, readonly string[]>;

export type PaletteName = keyof typeof PALETTES;

/** How error is spread to the neighbours of a pixel; `none` maps each pixel to its nearest colour. */
export const DITHER_METHODS = ['floyd-steinberg', 'atkinson', 'none'] as const;

/** Most colours a palette may have: an 8-bit indexed PNG holds 256. */
export const MAX_PALETTE_COLOURS = 256;

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
    name: { label: 'Name', kind: 'string', minLength: 1, maxLength: 32, pattern: NAME_PATTERN, expected: 'name of 1-32 lower-case letters, digits, - or _', description: 'Names its frames (/displays/<name>) and its consumer.' },
    preset: {
      label: 'Panel model', kind: 'enum', values: Object.keys(DISPLAY_PRESETS), optional: true, fills: DISPLAY_PRESETS,
      description: 'Inherit width, height and palette from a real panel',
    },
    width: { ...SIDE, label: 'Width' },
    height: { ...SIDE, label: 'Height' },
    palette: {
      label: 'Colours', kind: 'oneOf', expected: `one of ${Object.keys(PALETTES).join(', ')} or a list of 2 to ${MAX_PALETTE_COLOURS} #rrggbb colours`,
      description: 'The colours the panel shows, in index order.',
      options: [
        { kind: 'enum', values: Object.keys(PALETTES) as PaletteName[], swatches: PALETTES, description: 'A palette named after its panels.' },
        { kind: 'list', minItems: 2, maxItems: MAX_PALETTE_COLOURS, item: { ...HEX_COLOUR, description: 'A colour.' }, description: 'The colours.' },
      ],
    },
    dither: { label: 'Dithering', kind: 'enum', values: DITHER_METHODS, default: 'floyd-steinberg', description: 'How error is spread to a pixel\'s neighbours.' },
    fit: { label: 'Fit', kind: 'enum', values: FITS, default: 'cover', description: 'contain shows all of the picture; cover fills the panel and crops.' },
    rotation_mode: { label: 'Turn the picture', kind: 'enum', values: ROTATION_MODES, default: 'auto', description: 'auto turns the picture when that shows more.' },
    background: { ...HEX_COLOUR, label: 'Background', default: '#ffffff', description: 'What contain pads with.' },
    saturation: { label: 'Saturation', kind: 'number', min: 0, max: 4, default: 1, description: 'Colour boost before dithering; 1 is none.' },
    render: { label: 'Frames made', kind: 'enum', values: RENDERS, default: 'on_store', description: 'on_store: each new image\'s frame after commit; on_request: on first GET.' },
    command: {
      label: 'Command', kind: 'list', minItems: 1, maxItems: 64, optional: true, operatorOnly: true, expected: COMMAND_EXPECTED,
      item: { kind: 'string', maxLength: 4096, description: 'One argument.' },
      description: 'argv; placeholders {frame} {image} {id} {source} {display}',
      // argv, never a shell string: its first part names the program.
      check: (argv, path) => (argv[0] === '' ? { '': describeInvalid(path, COMMAND_EXPECTED, argv) } : undefined),
    },
    command_timeout_s: { label: 'Command time limit', kind: 'integer', min: 1, max: 3600, unit: 's', default: 120, description: 'The command is ended after this long.' },
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

