import { describeInvalid, type FieldErrors } from './errors';

/**
 * The kinds a setting can be: how it is typed, bounded, described and checked. One declaration
 * per setting serves validation, its TypeScript type, `--help`, the configuration form and the
 * JSON Schema of the OpenAPI document.
 */

/** What every kind of setting carries. */
interface SpecCommon {
  description: string;
  /** A short name for people, as the form shows it ("Longest side"). */
  label?: string;
  unit?: string;
  /**
   * What 0 (or an empty string) means, as the pages say it instead of "0 MB": "off",
   * "automatic", "no limit". Absent when 0 is a plain value.
   */
  zero?: string;
  /** Among the few settings the dashboard summarizes (the configuration page shows them all). */
  summary?: boolean;
  /** The colours each value of an enum stands for (a named palette), for the form's swatches. */
  swatches?: Readonly<Record<string, readonly string[]>>;
  /** A value to show in the settings-file line of an operator-only setting while it is empty. */
  example?: unknown;
  /** How the allowed values are said in messages, where the kind's own words would be too long. */
  expected?: string;
  /**
   * Names a command, a host, a file or a credential: only the settings file, the environment or a
   * flag may set it; POST /config refuses it with 403 forbidden_setting.
   */
  operatorOnly?: boolean;
  /** A credential: never shown by GET /config, /memory_status or the log. Implies operatorOnly. */
  secret?: boolean;
}

/** A field of an object setting: left out, it takes its `default`, or stays out when `optional`. */
export type FieldSpec = SettingSpec & {
  optional?: boolean;
  default?: unknown;
  /**
   * Values of the object's other fields, by this field's value (a display's `preset`): they fill
   * the fields the object leaves out. This field itself is not kept.
   */
  fills?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
};

export type SettingSpec = SpecCommon & (
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'boolean' }
  | { kind: 'string'; maxLength: number; minLength?: number; pattern?: RegExp; patternHint?: string }
  | { kind: 'enum'; values: readonly string[] }
  /** A value of any one of `options`, such as a palette: a name or a list of colours. */
  | { kind: 'oneOf'; options: readonly SettingSpec[] }
  | {
    kind: 'list';
    item: SettingSpec;
    maxItems: number;
    minItems?: number;
    /**
     * The field that names each object of the list: no two items may share it, and an update's
     * item is matched by it with the item in force (whose operator-only parts it keeps).
     */
    key?: string;
    /** Checks across items once each is valid; reasons keyed by relative path (`[1].name`, `''` for the list). */
    check?: (items: readonly unknown[], path: string) => FieldErrors | undefined;
  }
  | {
    kind: 'object';
    fields: Readonly<Record<string, FieldSpec>>;
    /**
     * Checks across fields, once each field is valid on its own, over the object with its
     * defaults and fills; returns reasons keyed by field name (`''` for the object itself).
     */
    check?: (value: Record<string, unknown>, path: string) => FieldErrors | undefined;
  }
);

export type ObjectSpec = Extract<SettingSpec, { kind: 'object' }>;
export type ListSpec = Extract<SettingSpec, { kind: 'list' }>;

/** The value a spec declares, as the daemon holds it: defaults filled in, fills applied. */
export type SettingValue<S> =
  S extends { kind: 'integer' | 'number' } ? number
  : S extends { kind: 'boolean' } ? boolean
  : S extends { kind: 'string' } ? string
  : S extends { kind: 'enum'; values: readonly (infer V)[] } ? V
  : S extends { kind: 'oneOf'; options: readonly (infer O)[] } ? SettingValue<O>
  : S extends { kind: 'list'; item: infer I } ? readonly SettingValue<I>[]
  : S extends { kind: 'object'; fields: infer F } ? ObjectValue<F>
  : never;

type Kept<F> = { [K in keyof F]: F[K] extends { fills: object } ? never : K }[keyof F];
type Optional<F> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];
type ObjectValue<F> = Flat<
  { readonly [K in Exclude<Kept<F>, Optional<F>>]: SettingValue<F[K]> }
  & { readonly [K in Extract<Kept<F>, Optional<F>>]?: SettingValue<F[K]> }
>;
type Flat<T> = { [K in keyof T]: T[K] } & {};

/** Describes the allowed values of a spec, as used in every error message, --help and the docs. */
export function describeSpec(spec: SettingSpec): string {
  if (spec.expected) return spec.expected;
  switch (spec.kind) {
    case 'integer': return `integer between ${spec.min} and ${spec.max}`;
    case 'number': return `number between ${spec.min} and ${spec.max}`;
    case 'boolean': return 'boolean';
    case 'string': return `string of ${spec.minLength ? `${spec.minLength} to ` : 'at most '}${spec.maxLength} characters${spec.pattern ? ` ${spec.patternHint ?? `matching ${spec.pattern.source}`}` : ''}`;
    case 'enum': return `one of ${spec.values.join(', ')}`;
    case 'oneOf': return spec.options.map(describeSpec).join(' or ');
    case 'list': return `list of ${spec.minItems ? `${spec.minItems} to ` : 'at most '}${spec.maxItems} ${describeSpec(spec.item)}`;
    case 'object': return `object with ${Object.entries(spec.fields).map(([name]) => `${name}${isRequired(spec, name) ? '' : '?'}`).join(', ')}`;
  }
}

/**
 * Checks `value` against `spec`, recursing into lists and objects; every reason is added to
 * `errors` under its path (`displays[0].width`), in the one message shape.
 */
export function checkValue(spec: SettingSpec, value: unknown, path: string, errors: FieldErrors): void {
  const bad = (): void => {
    // A credential is never quoted: the reason may reach the journal (a bad variable at start).
    errors[path] = describeInvalid(path, describeSpec(spec), value, spec.secret);
  };
  switch (spec.kind) {
    case 'integer':
      if (!Number.isInteger(value) || (value as number) < spec.min || (value as number) > spec.max) bad();
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.min || value > spec.max) bad();
      return;
    case 'boolean':
      if (typeof value !== 'boolean') bad();
      return;
    case 'string':
      if (typeof value !== 'string' || value.length > spec.maxLength || value.length < (spec.minLength ?? 0)
        || (spec.pattern && value !== '' && !spec.pattern.test(value))) bad();
      return;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) bad();
      return;
    case 'oneOf':
      // Which option was meant cannot be known, so the value is refused whole.
      if (!spec.options.some((option) => isValid(option, value))) bad();
      return;
    case 'list':
      if (!Array.isArray(value) || value.length > spec.maxItems || value.length < (spec.minItems ?? 0)) return bad();
      checkList(spec, value, path, errors);
      return;
    case 'object':
      checkObject(spec, value, path, errors);
  }
}

function isValid(spec: SettingSpec, value: unknown): boolean {
  const errors: FieldErrors = {};
  checkValue(spec, value, '', errors);
  return Object.keys(errors).length === 0;
}

function checkList(spec: ListSpec, items: unknown[], path: string, errors: FieldErrors): void {
  const before = Object.keys(errors).length;
  const keys = new Set<string>();
  items.forEach((item, i) => {
    const prior = Object.keys(errors).length;
    checkValue(spec.item, item, `${path}[${i}]`, errors);
    // Only well-formed items are compared, so a bad item is named for what is wrong with it.
    if (spec.key === undefined || Object.keys(errors).length > prior) return;
    const key = keyOf(spec, item);
    if (keys.has(key)) errors[`${path}[${i}].${spec.key}`] = `${spec.item.label ?? 'Item'} ${spec.key} ${key} is used twice`;
    keys.add(key);
  });
  if (Object.keys(errors).length > before || !spec.check) return;
  for (const [at, reason] of Object.entries(spec.check(items, path) ?? {})) errors[`${path}${at}`] = reason;
}

function checkObject(spec: ObjectSpec, value: unknown, path: string, errors: FieldErrors): void {
  if (!isRecord(value)) {
    errors[path] = describeInvalid(path, describeSpec(spec), value);
    return;
  }
  const before = Object.keys(errors).length;
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(spec.fields, key)) {
      errors[`${path}.${key}`] = `Unknown field ${key} of ${path}; known fields are ${Object.keys(spec.fields).join(', ')}`;
    }
  }
  const filled = fillsOf(spec, value);
  const record = { ...fieldDefaults(spec), ...filled, ...value };
  for (const [name, field] of Object.entries(spec.fields)) {
    // A field a preset could have given says so, unless one did.
    const filler = filled[name] === undefined ? fillerOf(spec, name) : undefined;
    const shown: SettingSpec = filler ? { ...field, expected: `${describeSpec(field)} (or a ${filler})` } : field;
    if (record[name] === undefined) {
      if (!field.optional) errors[`${path}.${name}`] = `Missing ${path}.${name}: expected ${describeSpec(shown)}`;
    } else {
      checkValue(shown, record[name], `${path}.${name}`, errors);
    }
  }
  // Cross-field rules speak only of values that are each well-formed.
  if (Object.keys(errors).length > before || !spec.check) return;
  for (const [name, reason] of Object.entries(spec.check(record, path) ?? {})) errors[name ? `${path}.${name}` : path] = reason;
}

/** The defaults of an object's fields, for those that have one. */
export function fieldDefaults(spec: ObjectSpec): Record<string, unknown> {
  return Object.fromEntries(Object.entries(spec.fields).filter(([, field]) => field.default !== undefined).map(([name, field]) => [name, field.default]));
}

/** The values an object's `fills` fields give it (a preset's width, height and palette). */
function fillsOf(spec: ObjectSpec, value: Record<string, unknown>): Record<string, unknown> {
  const filled: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec.fields)) {
    const chosen = value[name];
    if (field.fills && typeof chosen === 'string' && Object.hasOwn(field.fills, chosen)) Object.assign(filled, field.fills[chosen]);
  }
  return filled;
}

/** The name of the field whose fills may give `name` (`preset` for a display's width). */
function fillerOf(spec: ObjectSpec, name: string): string | undefined {
  return Object.entries(spec.fields).find(([, field]) => field.fills && Object.values(field.fills).some((fill) => Object.hasOwn(fill, name)))?.[0];
}

/** Whether an object must give `name` itself: no default, not optional, no fill for it. */
function isRequired(spec: ObjectSpec, name: string): boolean {
  const field = spec.fields[name];
  return !field.optional && field.default === undefined && fillerOf(spec, name) === undefined;
}

/**
 * A valid value as the daemon keeps it: objects get their defaults and fills, lose their `fills`
 * fields, and are frozen.
 */
export function normalizeValue(spec: SettingSpec, value: unknown): unknown {
  switch (spec.kind) {
    case 'list': return (value as unknown[]).map((item) => normalizeValue(spec.item, item));
    case 'object': {
      const record = value as Record<string, unknown>;
      const complete: Record<string, unknown> = { ...fieldDefaults(spec), ...fillsOf(spec, record), ...record };
      for (const [name, field] of Object.entries(spec.fields)) {
        if (field.fills) delete complete[name];
        else if (complete[name] !== undefined) complete[name] = normalizeValue(field, complete[name]);
      }
      return Object.freeze(complete);
    }
    default: return value;
  }
}

/** The JSON Schema of a spec, for the OpenAPI document. */
export function jsonSchemaOf(spec: SettingSpec): Record<string, unknown> {
  const base = {
    ...(spec.label ? { title: spec.label } : {}),
    description: spec.description,
    ...(spec.operatorOnly || spec.secret ? { 'x-operator-only': true } : {}),
  };
  switch (spec.kind) {
    case 'integer': return { type: 'integer', minimum: spec.min, maximum: spec.max, ...base };
    case 'number': return { type: 'number', minimum: spec.min, maximum: spec.max, ...base };
    case 'boolean': return { type: 'boolean', ...base };
    case 'string': return {
      type: 'string', maxLength: spec.maxLength, ...(spec.minLength ? { minLength: spec.minLength } : {}),
      // Empty matches any pattern unless a minimum length says otherwise ("empty is off").
      ...(spec.pattern ? { pattern: spec.minLength ? spec.pattern.source : `^$|${spec.pattern.source}` } : {}), ...base,
    };
    case 'enum': return { enum: [...spec.values], ...base };
    case 'oneOf': return { oneOf: spec.options.map(jsonSchemaOf), ...base };
    case 'list': return {
      type: 'array', ...(spec.minItems ? { minItems: spec.minItems } : {}), maxItems: spec.maxItems, items: jsonSchemaOf(spec.item), ...base,
    };
    case 'object': return {
      type: 'object',
      additionalProperties: false,
      required: Object.keys(spec.fields).filter((name) => isRequired(spec, name)),
      properties: Object.fromEntries(Object.entries(spec.fields).map(([name, field]) => [
        name, { ...jsonSchemaOf(field), ...(field.default !== undefined ? { default: field.default } : {}) },
      ])),
      ...base,
    };
  }
}

/** Whether a spec may only be set by the operator (file, environment, flag). */
export function isOperatorOnly(spec: SettingSpec): boolean {
  return spec.operatorOnly === true || spec.secret === true;
}

/**
 * Reads one setting's value from the text of an environment variable or a `--set` flag: JSON
 * for lists and objects, as written for strings and enums, parsed for numbers and booleans.
 * A value that does not parse is returned as text, so that validation names it.
 */
export function parseSettingText(spec: SettingSpec, text: string): unknown {
  const trimmed = text.trim();
  switch (spec.kind) {
    case 'string':
    case 'enum':
      return text;
    case 'boolean':
      return trimmed === 'true' ? true : trimmed === 'false' ? false : trimmed;
    case 'integer':
      return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
    case 'number':
      return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
    case 'list':
    case 'object':
    case 'oneOf':
      try {
        return JSON.parse(trimmed);
      } catch {
        return trimmed;
      }
  }
}

/** What names an item of a list with a key: no two items share it. */
export function keyOf(spec: ListSpec, item: unknown): string {
  return String((item as Record<string, unknown>)[spec.key!]);
}

/** A plain object, not null and not a list. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
