import type { FieldErrors } from '../errors';
import { maskUrlPasswordsIn } from '../credentials';
import type { SettingSpec } from '../setting-kinds';
import { DITHER_METHODS, PALETTES } from './dither';
import { MAX_PANEL } from './frame-memory';
import {
  DISPLAY_PRESETS, FITS, NAME_PATTERN, PROFILE_DEFAULTS, PROFILE_LIMITS, RENDERS, ROTATION_MODES, validateDisplays, type DisplayProfile,
} from './profiles';

/** What the schema cannot say of a panel's size: its frame is rendered in the daemon's memory. */
const PANEL_PIXELS_HINT = `At most ${MAX_PANEL.width}x${MAX_PANEL.height} pixels in all, and under a memory budget what it leaves beside the daemon`;

/**
 * The `displays` setting: a list of display profiles (server/display/profiles.ts). Everything but
 * `command` may be changed with POST /config; `command` names a program, so only the operator's
 * settings file, environment or flags may set it: a runtime update never keeps one, and takes
 * the operator's command of each display by name.
 */
export const DISPLAYS_SPEC: SettingSpec = {
  kind: 'custom',
  description: 'Display panels: name, preset or width/height/palette, dither, fit, rotation_mode, background, saturation, render; command (argv, operator-only) and command_timeout_s.',
  expected: `list of at most ${PROFILE_LIMITS.displays} display profiles`,
  check(value: unknown, path: string, errors: FieldErrors) {
    Object.assign(errors, validateDisplays(value, path).fields);
  },
  normalize: (value) => validateDisplays(value).profiles,
  operatorPaths(value: unknown, path: string, current: unknown) {
    if (!Array.isArray(value)) return [];
    // The configuration page sends every display back whole: a command equal to the one in force
    // for that name, as it is or as GET /config shows it (URL passwords masked), changes nothing,
    // so only a new or different command is refused.
    const inForce = new Map((current as DisplayProfile[]).map((profile) => [
      profile.name, [JSON.stringify(profile.command), JSON.stringify(maskUrlPasswordsIn(profile.command))],
    ]));
    return value.flatMap((item: { name?: unknown; command?: unknown } | null, i) => {
      if (typeof item !== 'object' || item === null || item.command === undefined) return [];
      return inForce.get(String(item.name))?.includes(JSON.stringify(item.command)) ? [] : [`${path}[${i}].command`];
    });
  },
  withoutOperatorParts(value: unknown) {
    return (value as DisplayProfile[]).map(({ command: _command, ...profile }) => Object.freeze(profile));
  },
  overlay(operator: unknown, runtime: unknown) {
    const commands = new Map((operator as DisplayProfile[]).map((profile) => [profile.name, profile.command]));
    return (runtime as DisplayProfile[]).map((profile) => {
      const command = commands.get(profile.name);
      return Object.freeze(command ? { ...profile, command } : profile);
    });
  },
  schema: {
    type: 'array',
    maxItems: PROFILE_LIMITS.displays,
    items: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: NAME_PATTERN.source },
        preset: { enum: Object.keys(DISPLAY_PRESETS), description: 'Inherit width, height and palette from a real panel' },
        width: { type: 'integer', minimum: PROFILE_LIMITS.size.min, maximum: PROFILE_LIMITS.size.max, description: PANEL_PIXELS_HINT },
        height: { type: 'integer', minimum: PROFILE_LIMITS.size.min, maximum: PROFILE_LIMITS.size.max, description: PANEL_PIXELS_HINT },
        palette: { oneOf: [{ enum: Object.keys(PALETTES) }, { type: 'array', minItems: 2, maxItems: 256, items: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' } }] },
        dither: { enum: [...DITHER_METHODS], default: PROFILE_DEFAULTS.dither },
        fit: { enum: [...FITS], default: PROFILE_DEFAULTS.fit },
        rotation_mode: { enum: [...ROTATION_MODES], default: PROFILE_DEFAULTS.rotation_mode },
        background: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$', default: PROFILE_DEFAULTS.background },
        saturation: { type: 'number', minimum: PROFILE_LIMITS.saturation.min, maximum: PROFILE_LIMITS.saturation.max, default: PROFILE_DEFAULTS.saturation },
        render: { enum: [...RENDERS], default: PROFILE_DEFAULTS.render },
        command: { type: 'array', items: { type: 'string' }, minItems: 1, 'x-operator-only': true, description: 'argv; placeholders {frame} {image} {id} {source} {display}' },
        command_timeout_s: { type: 'integer', minimum: PROFILE_LIMITS.command_timeout_s.min, maximum: PROFILE_LIMITS.command_timeout_s.max, default: PROFILE_DEFAULTS.command_timeout_s },
      },
    },
  },
};
