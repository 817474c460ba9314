import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILE_DEFAULTS, validateDisplays } from '../../../server/display/profiles';

describe('validateDisplays', () => {
  it('fills a preset profile with the panel and the defaults', () => {
    const { profiles, fields } = validateDisplays([{ name: 'panel', preset: 'inky-impression-7in3' }]);
    assert.deepEqual({ ...fields }, {});
    assert.deepEqual(profiles, [{ ...PROFILE_DEFAULTS, name: 'panel', width: 800, height: 480, palette: 'spectra6' }]);
  });

  it('lets a profile override its preset (a panel hung the other way round)', () => {
    const { profiles } = validateDisplays([{ name: 'ecal', preset: 'waveshare-13in3-e6', width: 1600, height: 1200, dither: 'atkinson', command: ['/usr/bin/show', '{frame}'] }]);
    assert.equal(profiles?.[0].width, 1600);
    assert.equal(profiles?.[0].palette, 'spectra6');
    assert.deepEqual(profiles?.[0].command, ['/usr/bin/show', '{frame}']);
  });

  it('gives a reason per bad field, by path, and no profiles', () => {
    const { profiles, fields } = validateDisplays([
      { name: 'ok', width: 100, height: 100, palette: ['#000000', '#fff'] },
      { name: 'Bad Name', width: 0, palette: 'cmyk', dither: 'ordered', fit: 'stretch', rotation_mode: 'upside', background: 'white', saturation: -1, render: 'never', command: 'python3 show.py', command_timeout_s: 0, colour: 1 },
      { name: 'ok', preset: 'nope' },
    ]);
    assert.equal(profiles, undefined);
    assert.deepEqual(Object.keys(fields).sort(), [
      'displays[0].palette',
      'displays[1].background', 'displays[1].colour', 'displays[1].command', 'displays[1].command_timeout_s',
      'displays[1].dither', 'displays[1].fit', 'displays[1].height', 'displays[1].name', 'displays[1].palette',
      'displays[1].render', 'displays[1].rotation_mode', 'displays[1].saturation', 'displays[1].width',
      'displays[2].height', 'displays[2].palette', 'displays[2].preset', 'displays[2].width',
    ]);
    assert.equal(fields['displays[1].width'], 'Expected integer between 8 and 8192 (or a preset) for displays[1].width but received 0 of type number');
    assert.match(fields['displays[1].command'], /argv list .*never a shell string.*received "python3 show.py" of type string/);
  });

  it('refuses two displays of one name and a list that is not one', () => {
    const twice = validateDisplays([{ name: 'a', preset: 'inky-impression-7in3' }, { name: 'a', preset: 'inky-impression-7in3' }]);
    assert.deepEqual({ ...twice.fields }, { 'displays[1].name': 'Display name a is used twice' });
    assert.deepEqual(Object.keys(validateDisplays({ name: 'a' }).fields), ['displays']);
  });
});
