import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, type FieldErrors } from '../../server/errors';
import { checkValue, describeSpec, jsonSchemaOf, normalizeValue, parseSettingText, type SettingSpec } from '../../server/setting-kinds';
import { hasOperatorParts, operatorPartsIn, withOperatorParts, withoutOperatorParts } from '../../server/setting-operator-parts';
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

/** Screens named by a key, with a model that fills a field, a default, a oneOf and an operator-only part. */
const SCREENS: SettingSpec = {
  kind: 'list', maxItems: 4, key: 'name', description: 'screens',
  item: {
    kind: 'object', label: 'Screen', description: 'a screen',
    fields: {
      name: { kind: 'string', minLength: 1, maxLength: 8, description: 'name' },
      model: { kind: 'enum', values: ['small'], optional: true, fills: { small: { width: 10 } }, description: 'model' },
      width: { kind: 'integer', min: 1, max: 100, description: 'width' },
      colour: {
        kind: 'oneOf', default: 'red', description: 'colour',
        options: [{ kind: 'enum', values: ['red'], description: 'a name' }, { kind: 'list', minItems: 3, maxItems: 3, item: { kind: 'integer', min: 0, max: 255, description: 'a level' }, description: 'levels' }],
      },
      program: { kind: 'list', minItems: 1, maxItems: 4, item: { kind: 'string', maxLength: 64, description: 'an argument' }, optional: true, operatorOnly: true, description: 'argv' },
    },
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

  it('fills what a model gives and the defaults, lets a field given win, and keeps no model', () => {
    assert.deepEqual(check(SCREENS, [{ name: 'a', model: 'small' }, { name: 'b', model: 'small', width: 20, colour: [1, 2, 3] }]), {});
    const screens = normalizeValue(SCREENS, [{ name: 'a', model: 'small' }, { name: 'b', model: 'small', width: 20, colour: [1, 2, 3] }]) as object[];
    assert.deepEqual(screens, [{ name: 'a', width: 10, colour: 'red' }, { name: 'b', width: 20, colour: [1, 2, 3] }]);
    assert.ok(Object.isFrozen(screens[0]));
  });

  it('says a model could give a missing field, refuses a oneOf whole, and names a key used twice', () => {
    assert.deepEqual(check(SCREENS, [{ name: 'a' }, { name: '', width: 5, colour: [1, 2] }, { name: 'c', width: 5 }, { name: 'c', width: 6 }]), {
      'panels[0].width': 'Missing panels[0].width: expected integer between 1 and 100 (or a model)',
      'panels[1].name': 'Expected string of 1 to 8 characters for panels[1].name but received "" of type string',
      'panels[1].colour': 'Expected one of red or list of 3 to 3 integer between 0 and 255 for panels[1].colour but received 1,2 of type array',
      'panels[3].name': 'Screen name c is used twice',
    });
  });

  it('finds, strips and restores operator-only parts, matching items by their key', () => {
    assert.equal(hasOperatorParts(SCREENS), true);
    assert.equal(hasOperatorParts(PANELS), false);
    const current = [{ name: 'a', width: 1, colour: 'red', program: ['/bin/show', 'https://u:pw@host/'] }];
    // The same program, as it is or as GET /config masks it, changes nothing; a new one is refused.
    const update = [{ name: 'a', program: ['/bin/show', 'https://u:********@host/'] }, { name: 'b', program: ['/bin/show'] }, { name: 'c' }];
    assert.deepEqual(operatorPartsIn(SCREENS, update, current, 'screens'), ['screens[1].program']);
    assert.deepEqual(operatorPartsIn(SCREENS, [{ name: 'a', program: ['/bin/other'] }], current, 'screens'), ['screens[0].program']);
    assert.deepEqual(withoutOperatorParts(SCREENS, current), [{ name: 'a', width: 1, colour: 'red' }]);
    assert.deepEqual(withOperatorParts(SCREENS, current, [{ name: 'b', width: 2 }, { name: 'a', width: 3 }]), [
      { name: 'b', width: 2 }, { name: 'a', width: 3, program: current[0].program },
    ]);
  });

  it('gives a JSON Schema that requires only what neither a default nor a fill gives', () => {
    const schema = jsonSchemaOf(SCREENS) as { items: { required: string[]; properties: Record<string, Record<string, unknown>> } };
    assert.deepEqual(schema.items.required, ['name']);
    assert.equal(schema.items.properties.colour.default, 'red');
    assert.equal((schema.items.properties.colour.oneOf as unknown[]).length, 2);
    assert.equal(schema.items.properties.program['x-operator-only'], true);
    assert.equal(schema.items.properties.program.minItems, 1);
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
