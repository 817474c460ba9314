import { describeInvalid, type FieldErrors } from './errors';

/**
 * The kinds a setting can be: how it is typed, bounded, described and checked. One declaration
 * per setting serves validation, `--help`, the configuration form and the OpenAPI document.
 */

/** What every kind of setting carries. */
interface SpecCommon {
  description: string;
  unit?: string;
  /**
   * Names a command, a host, a file or a credential: only the settings file, the environment or a
   * flag may set it; POST /config refuses it with 403 forbidden_setting.
   */
  operatorOnly?: boolean;
  /** A credential: never shown by GET /config, /memory_status or the log. Implies operatorOnly. */
  secret?: boolean;
}

/** A field of an object setting; optional fields may be left out and take no default here. */
export type FieldSpec = SettingSpec & { optional?: boolean };

export type SettingSpec = SpecCommon & (
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'boolean' }
  | { kind: 'string'; maxLength: number; pattern?: RegExp; patternHint?: string }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'list'; item: SettingSpec; maxItems: number }
  | {
    /**
     * A value with its own validator, for shapes the kinds above cannot say (a display profile:
     * presets, a palette named or listed). `normalize` fills defaults of a valid value;
     * `operatorPaths` names the parts of a value only the operator may set, `withoutOperatorParts`
     * removes them before a value is kept in the runtime layer, and `overlay` puts them back
     * from the operator's layers.
     */
    kind: 'custom';
    expected: string;
    check: (value: unknown, path: string, errors: FieldErrors) => void;
    schema: Record<string, unknown>;
    normalize?: (value: unknown) => unknown;
    /** `current` is the value in force: sending back what is there already is no change. */
    operatorPaths?: (value: unknown, path: string, current: unknown) => string[];
    withoutOperatorParts?: (value: unknown) => unknown;
    overlay?: (operator: unknown, runtime: unknown) => unknown;
  }
  | {
    kind: 'object';
    fields: Readonly<Record<string, FieldSpec>>;
    /**
     * Checks across fields, once each field is valid on its own; returns reasons keyed by field
     * name (relative to this object).
     */
    check?: (value: Record<string, unknown>) => FieldErrors | undefined;
  }
);

/** Describes the allowed values of a spec, as used in every error message, --help and the docs. */
export function describeSpec(spec: SettingSpec): string {
  switch (spec.kind) {
    case 'integer': return `integer between ${spec.min} and ${spec.max}`;
    case 'number': return `number between ${spec.min} and ${spec.max}`;
    case 'boolean': return 'boolean';
    case 'string': return `string of at most ${spec.maxLength} characters${spec.pattern ? ` ${spec.patternHint ?? `matching ${spec.pattern.source}`}` : ''}`;
    case 'enum': return `one of ${spec.values.join(', ')}`;
    case 'list': return `list of at most ${spec.maxItems} ${describeSpec(spec.item)}`;
    case 'custom': return spec.expected;
    case 'object': return `object with ${Object.entries(spec.fields).map(([name, field]) => `${name}${field.optional ? '?' : ''}`).join(', ')}`;
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
      if (typeof value !== 'string' || value.length > spec.maxLength || (spec.pattern && value !== '' && !spec.pattern.test(value))) bad();
      return;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) bad();
      return;
    case 'list':
      if (!Array.isArray(value) || value.length > spec.maxItems) return bad();
      value.forEach((item, i) => checkValue(spec.item, item, `${path}[${i}]`, errors));
      return;
    case 'object':
      checkObject(spec, value, path, errors);
      return;
    case 'custom':
      spec.check(value, path, errors);
  }
}

function checkObject(spec: Extract<SettingSpec, { kind: 'object' }>, value: unknown, path: string, errors: FieldErrors): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors[path] = describeInvalid(path, describeSpec(spec), value);
    return;
  }
  const before = Object.keys(errors).length;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(spec.fields, key)) {
      errors[`${path}.${key}`] = `Unknown field ${key} of ${path}; known fields are ${Object.keys(spec.fields).join(', ')}`;
    }
  }
  for (const [name, field] of Object.entries(spec.fields)) {
    if (record[name] === undefined) {
      if (!field.optional) errors[`${path}.${name}`] = `Missing ${path}.${name}: expected ${describeSpec(field)}`;
    } else {
      checkValue(field, record[name], `${path}.${name}`, errors);
    }
  }
  // Cross-field rules speak only of values that are each well-formed.
  if (Object.keys(errors).length > before || !spec.check) return;
  for (const [name, reason] of Object.entries(spec.check(record) ?? {})) errors[`${path}.${name}`] = reason;
}

/** The JSON Schema of a spec, for the OpenAPI document. */
export function jsonSchemaOf(spec: SettingSpec): Record<string, unknown> {
  const base = { description: spec.description, ...(spec.operatorOnly || spec.secret ? { 'x-operator-only': true } : {}) };
  switch (spec.kind) {
    case 'integer': return { type: 'integer', minimum: spec.min, maximum: spec.max, ...base };
    case 'number': return { type: 'number', minimum: spec.min, maximum: spec.max, ...base };
    case 'boolean': return { type: 'boolean', ...base };
    case 'string': return { type: 'string', maxLength: spec.maxLength, ...(spec.pattern ? { pattern: `^$|${spec.pattern.source}` } : {}), ...base };
    case 'enum': return { enum: [...spec.values], ...base };
    case 'custom': return { ...spec.schema, ...base };
    case 'list': return { type: 'array', maxItems: spec.maxItems, items: jsonSchemaOf(spec.item), ...base };
    case 'object': return {
      type: 'object',
      additionalProperties: false,
      required: Object.entries(spec.fields).filter(([, field]) => !field.optional).map(([name]) => name),
      properties: Object.fromEntries(Object.entries(spec.fields).map(([name, field]) => [name, jsonSchemaOf(field)])),
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
    case 'custom':
      try {
        return JSON.parse(trimmed);
      } catch {
        return trimmed;
      }
  }
}
