import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, type FieldErrors } from '../../server/errors';
import { checkValue, describeSpec, jsonSchemaOf, parseSettingText, type SettingSpec } from '../../server/setting-kinds';
import { settingsFromFlags, validateRuntimeUpdate } from '../../server/settings';

/** A list of nested objects with every kind inside, as a display profile list is. */
const PANELS: SettingSpec = {
  kind: 'list', maxItems: 2, description: 'panels',
  item: {
    kind: 'object', description: 'a panel',
    fields: {
      name: { kind: 'string', maxLength: 8, pattern: /^[a-z]+$/, description: 'name' },
      width: { kind: 'integer', min: 1, max: 100, description: 'width' },
      dither: { kind: 'enum', values: ['none', 'atkinson'], description: 'dither', optional: true },
      saturation: { kind: 'number', min: 0, max: 2, description: 'saturation', optional: true },
      palette: { kind: 'list', maxItems: 3, item: { kind: 'string', maxLength: 7, pattern: /^#[0-9a-f]{6}$/, description: 'colour' }, description: 'colours', optional: true },
    },
    check: (panel) => (panel.name === 'bad' ? { name: 'bad is reserved' } : undefined),
  },
};

function check(spec: SettingSpec, value: unknown): FieldErrors {
  const errors: FieldErrors = {};
  checkValue(spec, value, 'panels', errors);
  return errors;
}

describe('setting kinds', () => {
  it('accepts a well-formed list of objects with every kind inside', () => {
    assert.deepEqual(check(PANELS, [{ name: 'a', width: 5, dither: 'none', saturation: 1.5, palette: ['#000000', '#ffffff'] }, { name: 'b', width: 100 }]), {});
  });

  it('names every bad part by its path, in the one message shape', () => {
    const errors = check(PANELS, [
      { name: 'A1', width: 0, dither: 'floyd', saturation: 3, palette: ['red'], extra: 1 },
      { width: 5 },
    ]);
    assert.deepEqual(Object.keys(errors).sort(), [
      'panels[0].dither', 'panels[0].extra', 'panels[0].name', 'panels[0].palette[0]', 'panels[0].saturation', 'panels[0].width', 'panels[1].name',
    ]);
    assert.equal(errors['panels[0].width'], 'Expected integer between 1 and 100 for panels[0].width but received 0 of type number');
    assert.equal(errors['panels[0].dither'], 'Expected one of none, atkinson for panels[0].dither but received "floyd" of type string');
    assert.match(errors['panels[1].name'], /^Missing panels\[1\]\.name/);
    assert.match(errors['panels[0].extra'], /Unknown field extra/);
  });

  it('refuses a list that is too long or not a list, and runs cross-field checks only on valid objects', () => {
    assert.deepEqual(Object.keys(check(PANELS, [{ name: 'a', width: 1 }, { name: 'b', width: 1 }, { name: 'c', width: 1 }])), ['panels']);
    assert.deepEqual(Object.keys(check(PANELS, { name: 'a' })), ['panels']);
    assert.deepEqual(check(PANELS, [{ name: 'bad', width: 1 }]), { 'panels[0].name': 'bad is reserved' });
    assert.deepEqual(Object.keys(check(PANELS, [{ name: 'bad', width: 0 }])), ['panels[0].width']);
  });

  it('describes each kind and gives its JSON Schema', () => {
    assert.equal(describeSpec({ kind: 'enum', values: ['a', 'b'], description: '' }), 'one of a, b');
    const schema = jsonSchemaOf(PANELS) as { type: string; maxItems: number; items: { required: string[]; additionalProperties: boolean } };
    assert.equal(schema.type, 'array');
    assert.equal(schema.maxItems, 2);
    assert.deepEqual(schema.items.required, ['name', 'width']);
    assert.equal(schema.items.additionalProperties, false);
  });

  it('reads lists and objects from JSON text, strings as written, and leaves bad text for validation', () => {
    assert.deepEqual(parseSettingText(PANELS, '[{"name":"a","width":1}]'), [{ name: 'a', width: 1 }]);
    assert.equal(parseSettingText(PANELS, '[oops'), '[oops');
    assert.equal(parseSettingText({ kind: 'string', maxLength: 9, description: '' }, ' x '), ' x ');
    assert.equal(parseSettingText({ kind: 'integer', min: 0, max: 9, description: '' }, '1.5'), '1.5');
  });

  it('lets flags set operator-only settings, and refuses them over HTTP with 403, naming each', () => {
    assert.deepEqual(settingsFromFlags(['id_log_file=/var/log/ids', 'compression_quality=9']), { id_log_file: '/var/log/ids', compression_quality: 9 });
    assert.throws(() => settingsFromFlags(['id_log_file=relative/path']), (err: AppError) => err.code === 'invalid_settings' && 'id_log_file' in err.fields!);
    assert.throws(() => validateRuntimeUpdate({ id_log_file: '/tmp/x', compression_quality: 1 }), (err: AppError) =>
      err.code === 'forbidden_setting' && err.status === 403 && Object.keys(err.fields!).join() === 'id_log_file');
    assert.deepEqual(validateRuntimeUpdate({ compression_quality: 1 }), { compression_quality: 1 });
  });
});
