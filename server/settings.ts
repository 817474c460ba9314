import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import defaultsFile from '../config/defaults.json';
import { invalidSettings, operatorOnly, settingsNotObject, type FieldErrors } from './errors';
import { checkValue, isOperatorOnly, normalizeValue, parseSettingText, type SettingSpec } from './setting-kinds';
import { hasOperatorParts, operatorPartsIn, withOperatorParts, withoutOperatorParts } from './setting-operator-parts';
import { writeFileAtomic } from './atomic-write';
import { maskUrlPasswordsIn, SECRET_MASK } from './credentials';
import { DISPLAYS_SPEC, type DisplayProfile } from './display/profiles';

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
  /** Host names, besides IP addresses, localhost, *.local and this machine's names, that requests may be addressed to while no API token is set. */
  readonly allowed_hosts: readonly string[];
  /** Most images kept; past it the oldest are removed. 0 is no limit. */
  readonly max_stored_images: number;
  /** Most megabytes of stored PNGs kept; past it the oldest are removed. 0 is no limit. */
  readonly max_storage_mb: number;
  /** Free space kept on the data dir's filesystem: the oldest images go first, then uploads get 507. */
  readonly min_free_disk_mb: number;
  /** Uploads within this many hash bits of their source's newest image are not stored; 0 is off (issue 11). */
  readonly duplicate_max_distance: number;
  /** Seconds the local-feature worker (OpenCV) may sit idle before it is ended (issue 11). */
  readonly feature_worker_idle_seconds: number;
  /** Seconds the image worker, which runs the pipeline, may sit idle before it is ended (issue 14). */
  readonly image_worker_idle_seconds: number;
  /**
   * A file to which the built-in id-log consumer appends the id of every committed image, one per
   * line, in commit order: an audit trail, and the simplest durable consumer. Empty is off.
   */
  readonly id_log_file: string;
  /** Display panels and their frames and commands (issue 10); normalized, defaults filled in. */
  readonly displays: readonly DisplayProfile[];
  /** The MQTT broker, mqtt:// or mqtts://; empty turns MQTT off (server/mqtt/). */
  readonly mqtt_url: string;
  /** The MQTT client id; empty is pi-image-receiver-<hostname>. */
  readonly mqtt_client_id: string;
  readonly mqtt_username: string;
  /** A credential: masked in GET /config and /memory_status, never logged. */
  readonly mqtt_password: string;
  /** A file whose first line is the password, read at each connect; used when mqtt_password is empty. */
  readonly mqtt_password_file: string;
  /** PEM CA certificates for mqtts://. */
  readonly mqtt_ca_file: string;
  /** The prefix of every published topic; empty is pi-image-receiver/<hostname>. */
  readonly mqtt_topic_prefix: string;
  /** Topic filters whose image payloads are taken in like uploads. */
  readonly mqtt_subscribe: readonly string[];
  /** Which level of an incoming topic (1 is the first) names the image's source. */
  readonly mqtt_source_topic_level: number;
  /** Announce a device with image and sensor entities to Home Assistant. */
  readonly mqtt_discovery: boolean;
  /** Long side of the retained JPEG on <prefix>/images/<source>/latest, in pixels. */
  readonly mqtt_latest_max_dimension: number;
  /** The daemon's address as seen from outside, so that events carry absolute image URLs. */
  readonly public_url: string;
}

/** A partial update, as it arrives from JSON, a file or the environment. */
export type SettingsInput = { [K in keyof Settings]?: Settings[K] };

type SettingKey = keyof Settings;

export type { SettingSpec } from './setting-kinds';
export { describeSpec } from './setting-kinds';

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
  allowed_hosts: {
    kind: 'list', maxItems: 64, operatorOnly: true,
    item: { kind: 'string', maxLength: 253, pattern: /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, patternHint: 'that is a host name without a port', description: 'A host name.' },
    description: 'Host names the daemon also answers to while no API token is set, e.g. ["pi.example.net"]; IP addresses, localhost, *.local and this machine\'s own names always work. Other names are refused, against DNS rebinding.',
  },
  max_stored_images: {
    kind: 'integer', min: 0, max: 10_000_000, unit: 'images',
    description: 'Most images kept; past it the oldest images every consumer has handled are removed after each upload. 0 is no limit.',
  },
  max_storage_mb: {
    kind: 'integer', min: 0, max: 16_777_216, unit: 'MB',
    description: 'Most megabytes of stored PNGs; past it the oldest are removed after each upload, handled or not. 0 is no limit.',
  },
  min_free_disk_mb: {
    kind: 'integer', min: 0, max: 16_777_216, unit: 'MB',
    description: 'Free space kept on the data disk: the oldest images are removed, then uploads get 507. 0 is no floor.',
  },
  duplicate_max_distance: {
    kind: 'integer', min: 0, max: 64, unit: 'bits',
    description: 'An upload within this many perceptual-hash bits of the newest image of its source is not stored; 0 is off. 8 is recommended (docs/similarity.md).',
  },
  feature_worker_idle_seconds: {
    kind: 'integer', min: 1, max: 3600, unit: 's',
    description: 'The compare worker (OpenCV, about 85 MB) is ended after this long without a comparison.',
  },
  image_worker_idle_seconds: {
    kind: 'integer', min: 1, max: 3600, unit: 's',
    description: 'The image worker, which processes uploads, is ended after this long without an image, giving back all it held; the next image starts it again.',
  },
  id_log_file: {
    kind: 'string', maxLength: 4096, operatorOnly: true, pattern: /^\//, patternHint: 'that is an absolute path',
    description: 'Absolute path of a file that gets the id of every committed image, one per line, in commit order. Empty is off.',
  },
  displays: DISPLAYS_SPEC,
  // MQTT (issue 12): everything naming the broker, a credential, a file or a topic is operator-only.
  mqtt_url: {
    kind: 'string', maxLength: 2048, operatorOnly: true, pattern: /^mqtts?:\/\/\S+$/, patternHint: 'that is an mqtt:// or mqtts:// URL',
    description: 'The MQTT broker (mqtt://host:1883 or mqtts://host:8883). Empty is off.',
  },
  mqtt_client_id: {
    kind: 'string', maxLength: 128, operatorOnly: true,
    description: 'The MQTT client id; must differ between daemons on one broker. Empty is pi-image-receiver-<hostname>.',
  },
  mqtt_username: { kind: 'string', maxLength: 256, operatorOnly: true, description: 'The MQTT user name.' },
  mqtt_password: { kind: 'string', maxLength: 1024, secret: true, description: 'The MQTT password (or use mqtt_password_file).' },
  mqtt_password_file: {
    kind: 'string', maxLength: 4096, operatorOnly: true, pattern: /^\//, patternHint: 'that is an absolute path',
    description: 'A file whose first line is the MQTT password, read at each connect; used when mqtt_password is empty.',
  },
  mqtt_ca_file: {
    kind: 'string', maxLength: 4096, operatorOnly: true, pattern: /^\//, patternHint: 'that is an absolute path',
    description: 'PEM CA certificates to check an mqtts:// broker with.',
  },
  mqtt_topic_prefix: {
    kind: 'string', maxLength: 256, operatorOnly: true, pattern: /^[^/#+][^#+]*$/, patternHint: 'without + or # and not starting with /',
    description: 'Prefix of every topic published. Empty is pi-image-receiver/<hostname>.',
  },
  mqtt_subscribe: {
    kind: 'list', maxItems: 32, operatorOnly: true,
    item: { kind: 'string', maxLength: 256, pattern: /^\S+$/, patternHint: 'that is a topic filter', description: 'A topic filter.' },
    description: 'Topic filters whose image payloads are stored like uploads, e.g. ["frigate/+/+/snapshot"].',
  },
  mqtt_source_topic_level: {
    kind: 'integer', min: 1, max: 32, operatorOnly: true,
    description: 'Which level of an incoming topic (1 is the first) names the image source.',
  },
  mqtt_discovery: { kind: 'boolean', operatorOnly: true, description: 'Announce a device with image and sensor entities to Home Assistant.' },
  mqtt_latest_max_dimension: {
    kind: 'integer', min: 16, max: 4096, unit: 'px',
    description: 'Long side of the retained JPEG published for Home Assistant on <prefix>/images/<source>/latest.',
  },
  public_url: {
    kind: 'string', maxLength: 2048, pattern: /^https?:\/\/\S+$/, patternHint: 'that is an http:// or https:// URL',
    description: 'The address clients reach the daemon at, so that MQTT events carry absolute image URLs. Empty is relative URLs.',
  },
};

export const SETTING_KEYS = Object.keys(SETTING_SPECS) as SettingKey[];

/** The settings only the operator may set: POST /config refuses them. */
export const OPERATOR_ONLY_KEYS = SETTING_KEYS.filter((key) => isOperatorOnly(SETTING_SPECS[key]));

/** The built-in defaults, validated at load so a bad edit of config/defaults.json fails fast. */
export const DEFAULT_SETTINGS: Settings = Object.freeze(
  validateComplete(defaultsFile, 'config/defaults.json'),
);

/**
 * Checks every key of an update at once: unknown keys, types and ranges, into lists and objects.
 * @throws AppError invalid_settings naming every bad key, so nothing is applied.
 */
export function validateSettingsInput(input: unknown): SettingsInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw settingsNotObject(input);
  }
  // No prototype, so that a key such as "__proto__" is recorded as the unknown key it is.
  const fields: FieldErrors = Object.create(null);
  const valid: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const spec = Object.hasOwn(SETTING_SPECS, key) ? SETTING_SPECS[key as SettingKey] : undefined;
    if (!spec) {
      fields[key] = `Unknown setting ${key}; known settings are ${SETTING_KEYS.join(', ')}`;
      continue;
    }
    const before = Object.keys(fields).length;
    checkValue(spec, value, key, fields);
    if (Object.keys(fields).length === before) valid[key] = normalizeValue(spec, value);
  }
  const bad = Object.keys(fields);
  if (bad.length > 0) {
    throw invalidSettings(fields);
  }
  return valid as SettingsInput;
}

/**
 * The check of an update that arrives over HTTP: operator-only settings are refused before
 * anything else, so that a request can never change a command, a host, a file or a credential.
 * @throws AppError forbidden_setting naming each such key; invalid_settings as {@link validateSettingsInput}.
 */
export function validateRuntimeUpdate(input: unknown, current: Settings = DEFAULT_SETTINGS): SettingsInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return validateSettingsInput(input);
  const update = withoutMaskedEchoes(input as Record<string, unknown>, current);
  const forbidden = Object.keys(update).filter((key) => (OPERATOR_ONLY_KEYS as string[]).includes(key));
  // Operator-only parts inside a value (a display's command) are refused by their path.
  for (const [key, value] of Object.entries(update)) {
    const spec = Object.hasOwn(SETTING_SPECS, key) ? SETTING_SPECS[key as SettingKey] : undefined;
    if (spec && !isOperatorOnly(spec)) forbidden.push(...operatorPartsIn(spec, value, current[key as SettingKey], key));
  }
  if (forbidden.length > 0) {
    throw operatorOnly(forbidden);
  }
  return validateSettingsInput(update);
}

/**
 * The settings as a client may see them (GET /config, /memory_status, the pages, the live
 * stream): a credential is replaced by a mask, so that only whether it is set shows, and so is
 * the password of any URL in any setting (`mqtt://user:********@host`), lists and objects included.
 */
export function publicSettings(settings: Settings): Settings {
  const shown: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = settings[key];
    shown[key] = SETTING_SPECS[key].secret ? (value === '' ? '' : SECRET_MASK) : maskUrlPasswordsIn(value);
  }
  return Object.freeze(shown) as unknown as Settings;
}

export { SECRET_MASK } from './credentials';

/**
 * An update without the settings that are sent back as {@link publicSettings} shows them, masked
 * (GET /config, then POST /config): such a value means "unchanged", and must never replace the
 * real one with its mask.
 */
function withoutMaskedEchoes(input: Record<string, unknown>, current: Settings): Record<string, unknown> {
  const shown = publicSettings(current) as unknown as Record<string, unknown>;
  const kept: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(input)) {
    // An operator-only setting is refused whatever its value, masked or not.
    const masked = Object.hasOwn(shown, key) && !isOperatorOnly(SETTING_SPECS[key as SettingKey])
      && JSON.stringify(shown[key]) !== JSON.stringify(current[key as SettingKey]);
    if (!(masked && JSON.stringify(value) === JSON.stringify(shown[key]))) kept[key] = value;
  }
  return kept;
}

/**
 * What a runtime layer may hold: no operator-only setting and no operator-only part of a value
 * (a display's command). Applied before the runtime file is written and when it is read, so
 * that only the operator's own layers (file, environment, flags) ever set such a thing, and
 * removing it there takes effect at the next start.
 */
function runtimePart(input: SettingsInput): SettingsInput {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const spec = SETTING_SPECS[key as SettingKey];
    if (isOperatorOnly(spec)) continue;
    kept[key] = hasOperatorParts(spec) ? withoutOperatorParts(spec, value) : value;
  }
  return kept as SettingsInput;
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
    raw[key] = parseSettingText(SETTING_SPECS[key], text);
  }
  return validateSettingsInput(raw);
}

/**
 * Reads `--set key=value` flags, the value written as for an environment variable.
 * @throws AppError invalid_settings naming every bad flag.
 */
export function settingsFromFlags(pairs: readonly string[]): SettingsInput {
  const raw: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at) : pair;
    const spec = Object.hasOwn(SETTING_SPECS, key) ? SETTING_SPECS[key as SettingKey] : undefined;
    raw[key] = spec && at > 0 ? parseSettingText(spec, pair.slice(at + 1)) : pair.slice(at + 1);
  }
  return validateSettingsInput(raw);
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
  /**
   * A check of the settings in force as a whole, over every layer, for what no single setting
   * can say (a display's frame against the memory budget): run at open and on each update before
   * it is persisted. Returns the reasons keyed by path; none when it passes.
   */
  check?: (settings: Settings) => FieldErrors | undefined;
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

  private constructor(base: Settings, overrides: SettingsInput, private readonly options: SettingsStoreOptions) {
    super();
    this.base = base;
    this.overrides = overrides;
    this.current = this.checked(layer(base, overrides));
  }

  /**
   * Builds the store from its layers and the persisted runtime updates. A runtime file holding
   * what only the operator may set (written by an older version) is written again without it.
   * @throws AppError invalid_settings when a layer, or the settings as a whole, are bad.
   */
  static async open(options: SettingsStoreOptions): Promise<SettingsStore> {
    const base = Object.freeze(Object.assign({}, DEFAULT_SETTINGS, ...options.base) as Settings);
    const persisted = await readSettingsFile(options.runtimeFile);
    const overrides = runtimePart(persisted);
    if (JSON.stringify(overrides) !== JSON.stringify(persisted)) await writeRuntimeFile(options.runtimeFile, overrides);
    return new SettingsStore(base, overrides, options);
  }

  /** The settings in force now; a request takes them once and keeps them. */
  get(): Settings {
    return this.current;
  }

  /**
   * Validates the whole update, persists it atomically, then applies it; all or nothing.
   * @throws AppError forbidden_setting for an operator-only key, invalid_settings when any key
   * is bad; the fs error when persisting fails.
   */
  update(input: unknown): Promise<Settings> {
    const valid = validateRuntimeUpdate(input, this.current);
    // Updates run one after another, so that two concurrent ones cannot lose each other's keys.
    const result = this.updating.then(() => this.apply(valid));
    this.updating = result.catch(() => undefined);
    return result;
  }

  private async apply(valid: SettingsInput): Promise<Settings> {
    const overrides = runtimePart({ ...this.overrides, ...valid });
    const next = this.checked(layer(this.base, overrides));
    await writeRuntimeFile(this.options.runtimeFile, overrides);
    this.overrides = overrides;
    this.current = next;
    this.emit('change', this.current);
    return this.current;
  }

  /** `settings`, when the whole-settings check passes. @throws AppError invalid_settings when not. */
  private checked(settings: Settings): Settings {
    const fields = this.options.check?.(settings);
    if (fields && Object.keys(fields).length > 0) throw invalidSettings(fields);
    return settings;
  }
}

function writeRuntimeFile(path: string, overrides: SettingsInput): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(overrides, null, 2)}\n`);
}

/**
 * The runtime updates over the operator's layers; a setting with operator-only parts (displays)
 * keeps those of the operator's layers.
 */
function layer(base: Settings, overrides: SettingsInput): Settings {
  const merged: Record<string, unknown> = { ...base, ...overrides };
  for (const key of Object.keys(overrides) as SettingKey[]) {
    const spec = SETTING_SPECS[key];
    if (hasOperatorParts(spec)) merged[key] = withOperatorParts(spec, base[key], overrides[key]);
  }
  return Object.freeze(merged) as unknown as Settings;
}
