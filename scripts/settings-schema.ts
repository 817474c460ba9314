import { jsonSchemaOf } from '../server/setting-kinds';
import { SCHEMA_KEY, SETTING_SPECS } from '../server/settings';

/**
 * The JSON Schema (draft 2020-12) of a settings file, from the setting specs: what
 * config/settings.schema.json holds, so that an editor checks a settings file that names it in
 * `"$schema"`. Written by `npm run defaults` (write-defaults.ts); test/unit/settings-schema.test.ts
 * fails while the file differs.
 */
export function settingsFileSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'pi-image-receiver settings',
    description: 'A settings file: any subset of the settings, no other key. Ranges and defaults are those the daemon checks at start.',
    type: 'object',
    additionalProperties: false,
    properties: {
      [SCHEMA_KEY]: { type: 'string', description: 'Where this schema is, for editors; the daemon ignores it.' },
      ...Object.fromEntries(Object.entries(SETTING_SPECS).map(([key, spec]) => [key, { ...jsonSchemaOf(spec), default: spec.default }])),
    },
  };
}

/** config/settings.schema.json's text. */
export function settingsSchemaText(): string {
  return `${JSON.stringify(settingsFileSchema(), null, 2)}\n`;
}
