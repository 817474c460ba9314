import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { invalidSettings, operatorOnly, settingsNotObject, type FieldErrors } from './errors';
import { checkValue, isOperatorOnly, isRecord, normalizeValue, parseSettingText } from './setting-kinds';
import { hasOperatorParts, operatorPartsIn, withOperatorParts, withoutOperatorParts } from './setting-operator-parts';
import { SETTING_SPECS, type SettingKey, type Settings, type SettingsInput } from './setting-specs';
import { writeFileAtomic } from './atomic-write';
import { maskUrlPasswordsIn, SECRET_MASK } from './credentials';

export type { SettingSpec } from './setting-kinds';
export { describeSpec } from './setting-kinds';
export {
  GROUP_HEADINGS, SETTING_GROUPS, SETTING_SPECS, type DeclaredSetting, type SettingGroup, type Settings, type SettingsInput,
} from './setting-specs';

export const SETTING_KEYS = Object.keys(SETTING_SPECS) as SettingKey[];

/** The settings only the operator may set: POST /config refuses them. */
export const OPERATOR_ONLY_KEYS = SETTING_KEYS.filter((key) => isOperatorOnly(SETTING_SPECS[key]));

/** The built-in defaults, from the specs; validated at load, so that a bad default fails at once. */
export const DEFAULT_SETTINGS: Settings = Object.freeze(
  validateSettingsInput(Object.fromEntries(SETTING_KEYS.map((key) => [key, SETTING_SPECS[key].default]))) as Settings,
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
 * The key that points an editor at config/settings.schema.json: a settings file may carry it as a
 * string, and it is not a setting, so an update over HTTP may not.
 */
export const SCHEMA_KEY = '$schema';

/**
 * Reads a JSON settings file; a missing file is an empty layer. A string `$schema` is left out.
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
  return validateSettingsInput(withoutSchemaKey(parsed));
}

/** The settings of a file without its `$schema` line; any other `$schema` is refused as the unknown setting it is. */
function withoutSchemaKey(parsed: unknown): unknown {
  if (!isRecord(parsed) || typeof parsed[SCHEMA_KEY] !== 'string') return parsed;
  const { [SCHEMA_KEY]: _schema, ...settings } = parsed;
  return settings;
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
  return writeFileAtomic(path, settingsFileText(overrides));
}

/** Settings as a settings file holds them: the runtime file, and config/defaults.json. */
export function settingsFileText(settings: SettingsInput): string {
  return `${JSON.stringify(settings, null, 2)}\n`;
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
