import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import defaultsFile from '../config/defaults.json';
import { AppError, describeInvalid, type FieldErrors } from './errors';
import { writeFileAtomic } from './atomic-write';

/** The complete, normalized runtime settings; frozen once built. */
export interface Settings {
  /** Longest side of a stored image, in pixels; smaller images are never enlarged. */
  readonly max_image_dimension: number;
  /** zlib level of the stored PNG: 0 is fastest and largest, 9 smallest and slowest. */
  readonly compression_quality: number;
  /** Images at once only as memory_budget_mb allows, one libvips thread, no operation cache: the low-memory mode. */
  readonly enable_memory_optimization: boolean;
  /** Memory the daemon may use with enable_memory_optimization, in MB; 0 is automatic (cgroup limit, else half of MemAvailable). */
  readonly memory_budget_mb: number;
  /** Largest accepted upload body, in bytes, enforced while streaming. */
  readonly max_upload_bytes: number;
  /** Largest accepted image, in pixels (width x height), checked from the header before decoding. */
  readonly max_input_pixels: number;
  /** How many received images may wait for processing before uploads get 503 busy. */
  readonly max_queue_length: number;
  /** When an API token is set, reads need it too (every route but /health and the dashboard's shell). */
  readonly require_token_for_reads: boolean;
  /** Most images kept; past it the oldest are removed. 0 is no limit. */
  readonly max_stored_images: number;
  /** Most megabytes of stored PNGs kept; past it the oldest are removed. 0 is no limit. */
  readonly max_storage_mb: number;
  /** Free space kept on the data dir's filesystem: the oldest images go first, then uploads get 507. */
  readonly min_free_disk_mb: number;
}

/** A partial update, as it arrives from JSON, a file or the environment. */
export type SettingsInput = { [K in keyof Settings]?: Settings[K] };

type SettingKey = keyof Settings;

/** How one setting is typed, bounded and explained; the one source for validation, docs and forms. */
export type SettingSpec =
  | { kind: 'integer'; min: number; max: number; description: string; unit?: string }
  | { kind: 'boolean'; description: string };

/** Every setting with its type and range. Defaults live in config/defaults.json. */
export const SETTING_SPECS: { readonly [K in SettingKey]: SettingSpec } = {
  max_image_dimension: {
    kind: 'integer', min: 16, max: 16384, unit: 'px',
    description: 'Longest side of a stored image; smaller images are never enlarged.',
  },
  compression_quality: {
    kind: 'integer', min: 0, max: 9,
    description: 'PNG zlib level: 0 is fastest and largest, 9 is smallest and slowest.',
  },
  enable_memory_optimization: {
    kind: 'boolean',
    description: 'Several images at once only as memory_budget_mb allows (one per core at most), one libvips thread each, no libvips cache. Off: one image per core, every core for libvips, its cache.',
  },
  memory_budget_mb: {
    kind: 'integer', min: 0, max: 65536, unit: 'MB',
    description: 'With enable_memory_optimization, another image starts only while the RSS at rest plus the estimates of the images in flight fit in it. 0 is automatic: the cgroup\'s memory.high, else memory.max, else half of MemAvailable at start.',
  },
  max_upload_bytes: {
    kind: 'integer', min: 1024, max: 1024 * 1024 * 1024, unit: 'bytes',
    description: 'Largest accepted upload body; larger uploads get 413 payload_too_large.',
  },
  max_input_pixels: {
    kind: 'integer', min: 1024, max: 268402689, unit: 'pixels',
    description: 'Largest accepted width x height, checked before decoding; larger images get 413 too_many_pixels.',
  },
  max_queue_length: {
    kind: 'integer', min: 1, max: 1000, unit: 'images',
    description: 'Images that may wait for processing; beyond it uploads get 503 busy with Retry-After.',
  },
  require_token_for_reads: {
    kind: 'boolean',
    description: 'When an API token is set, reads need it too (every route but /health and the dashboard shell).',
  },
  max_stored_images: {
    kind: 'integer', min: 0, max: 10_000_000, unit: 'images',
    description: 'Most images kept; past it the oldest are removed after each upload. 0 is no limit.',
  },
  max_storage_mb: {
    kind: 'integer', min: 0, max: 16_777_216, unit: 'MB',
    description: 'Most megabytes of stored PNGs; past it the oldest are removed after each upload. 0 is no limit.',
  },
  min_free_disk_mb: {
    kind: 'integer', min: 0, max: 16_777_216, unit: 'MB',
    description: 'Free space kept on the data disk: the oldest images are removed, then uploads get 507. 0 is no floor.',
  },
};

export const SETTING_KEYS = Object.keys(SETTING_SPECS) as SettingKey[];

/** The built-in defaults, validated at load so a bad edit of config/defaults.json fails fast. */
export const DEFAULT_SETTINGS: Settings = Object.freeze(
  validateComplete(defaultsFile, 'config/defaults.json'),
);

/** Describes the allowed values of a setting, as used in every error message and the docs. */
export function describeSpec(spec: SettingSpec): string {
  return spec.kind === 'integer' ? `integer between ${spec.min} and ${spec.max}` : 'boolean';
}

/**
 * Checks every key of an update at once: unknown keys, types and ranges.
 * @throws AppError invalid_settings naming every bad key, so nothing is applied.
 */
export function validateSettingsInput(input: unknown): SettingsInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AppError('invalid_settings', 'Expected a JSON object of settings', {
      fields: { _: describeInvalid('settings', 'object', input) },
    });
  }
  // No prototype, so that a key such as "__proto__" is recorded as the unknown key it is.
  const fields: FieldErrors = Object.create(null);
  const valid: Record<string, number | boolean> = {};
  for (const [key, value] of Object.entries(input)) {
    const spec = Object.hasOwn(SETTING_SPECS, key) ? SETTING_SPECS[key as SettingKey] : undefined;
    if (!spec) {
      fields[key] = `Unknown setting ${key}; known settings are ${SETTING_KEYS.join(', ')}`;
    } else if (!fitsSpec(spec, value)) {
      fields[key] = describeInvalid(key, describeSpec(spec), value);
    } else {
      valid[key] = value as number | boolean;
    }
  }
  const bad = Object.keys(fields);
  if (bad.length > 0) {
    throw new AppError('invalid_settings', `Invalid settings: ${bad.join(', ')}`, { fields });
  }
  return valid as SettingsInput;
}

function fitsSpec(spec: SettingSpec, value: unknown): boolean {
  if (spec.kind === 'boolean') return typeof value === 'boolean';
  return Number.isInteger(value) && (value as number) >= spec.min && (value as number) <= spec.max;
}

function validateComplete(input: unknown, origin: string): Settings {
  const valid = validateSettingsInput(input);
  const missing = SETTING_KEYS.filter((key) => valid[key] === undefined);
  if (missing.length > 0) throw new Error(`${origin} lacks ${missing.join(', ')}`);
  return valid as Settings;
}

/**
 * Reads settings from environment variables named after each key in upper case
 * (MAX_IMAGE_DIMENSION=1600, ENABLE_MEMORY_OPTIMIZATION=false).
 * @throws AppError invalid_settings naming every bad variable.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): SettingsInput {
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const text = env[key.toUpperCase()];
    if (text === undefined || text === '') continue;
    raw[key] = parseScalar(text);
  }
  return validateSettingsInput(raw);
}

function parseScalar(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/**
 * Reads a JSON settings file; a missing file is an empty layer.
 * @throws Error naming the file when it is unreadable or not valid JSON, AppError when a key is bad.
 */
export async function readSettingsFile(path: string): Promise<SettingsInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return validateSettingsInput(parsed);
}

export interface SettingsStoreOptions {
  /** Layers below the runtime updates, lowest first: operator file, then environment. */
  base: SettingsInput[];
  /** Where runtime updates from POST /config are persisted; read back at start. */
  runtimeFile: string;
}

/**
 * The live settings: defaults < operator file < environment < runtime updates.
 * Only the runtime updates are persisted, so a later change of the file or environment still
 * shows through for keys an operator never set at runtime. Emits 'change' with the new settings.
 */
export class SettingsStore extends EventEmitter<{ change: [Settings] }> {
  private readonly base: Settings;
  private overrides: SettingsInput;
  private current: Settings;
  private updating: Promise<unknown> = Promise.resolve();

  private constructor(base: Settings, overrides: SettingsInput, private readonly runtimeFile: string) {
    super();
    this.base = base;
    this.overrides = overrides;
    this.current = Object.freeze({ ...base, ...overrides });
  }

  /** Builds the store from its layers and the persisted runtime updates. */
  static async open(options: SettingsStoreOptions): Promise<SettingsStore> {
    const base = Object.freeze(Object.assign({}, DEFAULT_SETTINGS, ...options.base) as Settings);
    const overrides = await readSettingsFile(options.runtimeFile);
    return new SettingsStore(base, overrides, options.runtimeFile);
  }

  /** The settings in force now; a request takes them once and keeps them. */
  get(): Settings {
    return this.current;
  }

  /**
   * Validates the whole update, persists it atomically, then applies it; all or nothing.
   * @throws AppError invalid_settings when any key is bad; the fs error when persisting fails.
   */
  update(input: unknown): Promise<Settings> {
    const valid = validateSettingsInput(input);
    // Updates run one after another, so that two concurrent ones cannot lose each other's keys.
    const result = this.updating.then(() => this.apply(valid));
    this.updating = result.catch(() => undefined);
    return result;
  }

  private async apply(valid: SettingsInput): Promise<Settings> {
    const overrides = { ...this.overrides, ...valid };
    await writeFileAtomic(this.runtimeFile, `${JSON.stringify(overrides, null, 2)}\n`);
    this.overrides = overrides;
    this.current = Object.freeze({ ...this.base, ...overrides });
    this.emit('change', this.current);
    return this.current;
  }
}
