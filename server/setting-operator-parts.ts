import { maskUrlPasswordsIn } from './credentials';
import { isOperatorOnly, isRecord, keyOf, type ListSpec, type SettingSpec } from './setting-kinds';

/**
 * The parts of a value only the operator may set (a display's command): refused in an update over
 * HTTP, never kept in the runtime layer, and put back from the operator's layers over it.
 */

/** Whether a value of `spec` may hold fields only the operator may set (a display's command). */
export function hasOperatorParts(spec: SettingSpec): boolean {
  switch (spec.kind) {
    case 'list': return hasOperatorParts(spec.item);
    case 'oneOf': return spec.options.some(hasOperatorParts);
    case 'object': return Object.values(spec.fields).some((field) => isOperatorOnly(field) || hasOperatorParts(field));
    default: return false;
  }
}

/**
 * The paths of the operator-only fields inside an update's `value` that change what is in force:
 * one equal to `current`'s, as it is or as GET /config shows it (URL passwords masked), changes
 * nothing, since the configuration page sends every display back whole.
 */
export function operatorPartsIn(spec: SettingSpec, value: unknown, current: unknown, path: string): string[] {
  if (spec.kind === 'list' && Array.isArray(value)) {
    return value.flatMap((item, i) => operatorPartsIn(spec.item, item, matchingItem(spec, current, item), `${path}[${i}]`));
  }
  if (spec.kind !== 'object' || !isRecord(value)) return [];
  return Object.entries(spec.fields).flatMap(([name, field]) => {
    if (value[name] === undefined) return [];
    const inForce = isRecord(current) ? current[name] : undefined;
    if (!isOperatorOnly(field)) return operatorPartsIn(field, value[name], inForce, `${path}.${name}`);
    const same = inForce !== undefined && [JSON.stringify(inForce), JSON.stringify(maskUrlPasswordsIn(inForce))].includes(JSON.stringify(value[name]));
    return same ? [] : [`${path}.${name}`];
  });
}

/** A valid value without its operator-only fields, as a runtime layer may keep it. */
export function withoutOperatorParts(spec: SettingSpec, value: unknown): unknown {
  if (spec.kind === 'list') return (value as unknown[]).map((item) => withoutOperatorParts(spec.item, item));
  if (spec.kind !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
    const field = spec.fields[name];
    if (!isOperatorOnly(field)) kept[name] = withoutOperatorParts(field, item);
  }
  return Object.freeze(kept);
}

/**
 * A runtime layer's `runtime` value with the operator-only fields of the operator's `operator`
 * value put back, items matched by their key: a display keeps the operator's command by name.
 */
export function withOperatorParts(spec: SettingSpec, operator: unknown, runtime: unknown): unknown {
  if (spec.kind === 'list' && Array.isArray(runtime)) {
    return runtime.map((item) => withOperatorParts(spec.item, matchingItem(spec, operator, item), item));
  }
  if (spec.kind !== 'object' || !isRecord(runtime)) return runtime;
  const merged = { ...runtime };
  for (const [name, field] of Object.entries(spec.fields)) {
    const theirs = isRecord(operator) ? operator[name] : undefined;
    if (isOperatorOnly(field)) {
      if (theirs !== undefined) merged[name] = theirs;
    } else if (merged[name] !== undefined && hasOperatorParts(field)) {
      merged[name] = withOperatorParts(field, theirs, merged[name]);
    }
  }
  return Object.freeze(merged);
}

/** The item of `list` with the same key as `item`; none when the list has no key. */
function matchingItem(spec: ListSpec, list: unknown, item: unknown): unknown {
  if (spec.key === undefined || !Array.isArray(list) || !isRecord(item)) return undefined;
  const key = keyOf(spec, item);
  return list.find((candidate) => isRecord(candidate) && keyOf(spec, candidate) === key);
}
