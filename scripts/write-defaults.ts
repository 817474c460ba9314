/**
 * Writes config/defaults.json from the setting specs (server/settings.ts): the built-in defaults,
 * which scripts/install.sh copies once to /etc/pi-image-receiver/settings.json for the operator to
 * edit. Run `npm run defaults` after adding a setting or changing a default; test/unit/settings.test.ts
 * fails while the file differs from the specs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, settingsFileText } from '../server/settings';

const file = join(__dirname, '..', '..', 'config', 'defaults.json');
writeFileSync(file, settingsFileText(DEFAULT_SETTINGS));
console.log(`wrote ${file}`);
