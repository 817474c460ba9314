import { z } from 'zod';
import { jsonSchemaOf } from '../../setting-kinds';
import { describeSpec, SECRET_MASK, SETTING_SPECS, type SettingSpec } from '../../settings';

type JsonSchema = Parameters<typeof z.fromJSONSchema>[0];

/**
 * One setting's schema, from its spec through the JSON Schema setting-kinds.ts prints for every
 * kind, so that a new kind needs no change here. Validation stays in settings.ts (its messages
 * are the API's); this is the same spec for OpenAPI and the contract test. A set credential
 * shows as the mask.
 */
export function settingSchema(spec: SettingSpec): z.ZodType {
  const schema = z.fromJSONSchema(jsonSchemaOf(spec) as JsonSchema);
  return spec.secret ? z.union([schema, z.literal(SECRET_MASK)]) : schema;
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
