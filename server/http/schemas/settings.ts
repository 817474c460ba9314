import { z } from 'zod';
import { describeSpec, SETTING_SPECS, type SettingSpec } from '../../settings';

/**
 * One setting's schema, from its spec. Validation stays in settings.ts (its messages are the
 * API's); this is the same spec printed for OpenAPI and used by the contract test.
 */
export function settingSchema(spec: SettingSpec): z.ZodType {
  if (spec.kind === 'integer') return z.int().min(spec.min).max(spec.max).describe(spec.description);
  if (spec.kind === 'boolean') return z.boolean().describe(spec.description);
  // A kind this function does not know yet is documented by its description rather than wrongly.
  return z.unknown().describe(describeSpec(spec as SettingSpec));
}

/** Every setting's schema, in SETTING_SPECS order; built again from the specs on each call. */
function settingShape(): Record<string, z.ZodType> {
  return Object.fromEntries(Object.entries(SETTING_SPECS).map(([key, spec]) => [key, settingSchema(spec)]));
}

/** What every setting allows, in one line each, for the schema's description. */
function describeSettings(): string {
  return Object.entries(SETTING_SPECS).map(([key, spec]) => `${key}: ${describeSpec(spec)}`).join('; ');
}

/** The settings in force, as GET /config answers them: every key present. */
export function settingsSchema() {
  return z.strictObject(settingShape()).describe(describeSettings());
}

/** A POST /config body: any subset of the settings, no other key. */
export function settingsUpdateSchema() {
  return z.strictObject(settingShape()).partial().describe(describeSettings());
}

/** POST /config 200: the original receiver's answer with the settings now in force. */
export function configUpdatedSchema(settings: z.ZodType) {
  return z.strictObject({ status: z.literal('success'), message: z.string(), config: settings });
}
