/**
 * Writes config/defaults.json and config/settings.schema.json from the setting specs
 * (server/setting-specs.ts): the built-in defaults, which scripts/install.sh copies once to
 * /etc/pi-image-receiver/settings.json for the operator to edit, and the JSON Schema editors check
 * such a file with. Run `npm run defaults` after adding a setting or changing one;
 * test/unit/settings.test.ts and test/unit/settings-schema.test.ts fail while a file differs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, settingsFileText } from '../server/settings';
import { settingsSchemaText } from './settings-schema';

const config = join(__dirname, '..', '..', 'config');
for (const [name, text] of [['defaults.json', settingsFileText(DEFAULT_SETTINGS)], ['settings.schema.json', settingsSchemaText()]]) {
  writeFileSync(join(config, name), text);
  console.log(`wrote ${join(config, name)}`);
}
