import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AppError } from '../../server/errors';
import { helpText } from '../../server/options';
import {
  DEFAULT_SETTINGS, SETTING_GROUPS, SETTING_KEYS, SETTING_SPECS, settingsFileText, settingsFromEnv, validateSettingsInput,
} from '../../server/settings';

describe('settings', () => {
  it('takes its defaults from the specs, one per setting, and config/defaults.json is generated from them', () => {
    const file = readFileSync(join(__dirname, '..', '..', '..', 'config', 'defaults.json'), 'utf8');
    assert.equal(file, settingsFileText(DEFAULT_SETTINGS), 'config/defaults.json differs from the specs: run npm run defaults');
    assert.deepEqual(Object.keys(DEFAULT_SETTINGS), [...SETTING_KEYS]);
    assert.equal(DEFAULT_SETTINGS.max_image_dimension, 2000);
    assert.equal(DEFAULT_SETTINGS.compression_quality, 6);
    assert.equal(DEFAULT_SETTINGS.enable_memory_optimization, true);
    assert.ok(Object.isFrozen(DEFAULT_SETTINGS));
  });

  it('gives every setting a label of its own and one of the groups, and lists them by group in --help', () => {
    const labels = SETTING_KEYS.map((key) => SETTING_SPECS[key].label);
    assert.equal(new Set(labels).size, SETTING_KEYS.length, labels.join(', '));
    for (const key of SETTING_KEYS) assert.ok((SETTING_GROUPS as readonly string[]).includes(SETTING_SPECS[key].group), key);
    const help = helpText();
    assert.ok(help.indexOf('  Images:') < help.indexOf('MAX_IMAGE_DIMENSION'));
    assert.ok(help.indexOf('  MQTT:') < help.indexOf('MQTT_URL') && help.indexOf('MQTT_URL') < help.indexOf('  Access:'));
  });

  it('accepts values at both ends of every range and refuses one past them', () => {
    for (const key of SETTING_KEYS) {
      const spec = SETTING_SPECS[key];
      if (spec.kind !== 'integer') continue;
      assert.deepEqual(validateSettingsInput({ [key]: spec.min }), { [key]: spec.min });
      assert.deepEqual(validateSettingsInput({ [key]: spec.max }), { [key]: spec.max });
      assert.throws(() => validateSettingsInput({ [key]: spec.max + 1 }), AppError);
      assert.throws(() => validateSettingsInput({ [key]: spec.min - 1 }), AppError);
      assert.throws(() => validateSettingsInput({ [key]: spec.min + 0.5 }), AppError);
      assert.throws(() => validateSettingsInput({ [key]: String(spec.min) }), AppError);
    }
  });

  it('names every bad key at once', () => {
    try {
      validateSettingsInput({ compression_quality: -1, nope: 1, enable_memory_optimization: 1 });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof AppError);
      assert.equal(err.status, 400);
      assert.deepEqual(Object.keys(err.fields ?? {}).sort(), ['compression_quality', 'enable_memory_optimization', 'nope']);
    }
  });

  it('reads upper-case environment variables and refuses bad ones', () => {
    assert.deepEqual(settingsFromEnv({ MAX_IMAGE_DIMENSION: '1600', ENABLE_MEMORY_OPTIMIZATION: 'false', UNRELATED: 'x' }), {
      max_image_dimension: 1600,
      enable_memory_optimization: false,
    });
    assert.throws(() => settingsFromEnv({ COMPRESSION_QUALITY: 'high', MAX_QUEUE_LENGTH: '0' }), (err: AppError) =>
      Object.keys(err.fields ?? {}).length === 2);
  });
});
