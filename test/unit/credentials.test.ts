import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskUrlPasswords, maskUrlPasswordsIn, SECRET_MASK, withoutPassword } from '../../server/credentials';
import { discoveryMessages } from '../../server/mqtt/mqtt-discovery';
import { imageEvent } from '../../server/mqtt/mqtt-publisher';
import { mqttSettingsFrom } from '../../server/mqtt/mqtt-settings';
import { DEFAULT_SETTINGS, publicSettings } from '../../server/settings';
import type { StoredImage } from '../../server/storage/image-store';

describe('credentials in URLs', () => {
  it('masks only the password, keeping scheme, user and host', () => {
    assert.equal(maskUrlPasswords('mqtts://cam:s3cret@broker.lan:8883'), `mqtts://cam:${SECRET_MASK}@broker.lan:8883`);
    assert.equal(maskUrlPasswords('mqtt://broker.lan:1883'), 'mqtt://broker.lan:1883');
    assert.equal(maskUrlPasswords('plain text with user@host and a:b'), 'plain text with user@host and a:b');
  });

  it('masks every string inside lists and objects, and leaves other values as they are', () => {
    const value = { argv: ['/bin/show', 'https://u:pw@panel/x'], n: 3, on: true, none: null };
    assert.deepEqual(maskUrlPasswordsIn(value), { argv: ['/bin/show', `https://u:${SECRET_MASK}@panel/x`], n: 3, on: true, none: null });
  });

  it('masks any URL setting in publicSettings, and a secret setting whole', () => {
    const shown = publicSettings({
      ...DEFAULT_SETTINGS, mqtt_url: 'mqtt://cam:pw1@b', public_url: 'https://v:pw2@pi', mqtt_password: 'pw3',
    });
    assert.equal(shown.mqtt_url, `mqtt://cam:${SECRET_MASK}@b`);
    assert.equal(shown.public_url, `https://v:${SECRET_MASK}@pi`);
    assert.equal(shown.mqtt_password, SECRET_MASK);
    assert.ok(!JSON.stringify(shown).includes('pw'));
    assert.equal(publicSettings(DEFAULT_SETTINGS).mqtt_password, '');
  });

  it('publishes public_url to the broker without its password: discovery and image events', () => {
    assert.equal(withoutPassword('https://v:pw2@pi.lan:8443'), 'https://v@pi.lan:8443/');
    assert.equal(withoutPassword('https://pi.lan:8443'), 'https://pi.lan:8443');
    const settings = mqttSettingsFrom({ mqtt_url: 'mqtt://b', public_url: 'https://v:pw2@pi.lan:8443' });
    const messages = discoveryMessages(settings, ['cam']);
    for (const { payload } of messages) assert.equal(JSON.parse(payload).device.configuration_url, 'https://v@pi.lan:8443/');
    const published = JSON.stringify(messages);
    const event = imageEvent({ id: '20260101T000000000-0000-abcd', source: 'cam' } as StoredImage, settings.publicUrl);
    assert.equal(event.url, 'https://v@pi.lan:8443/images/20260101T000000000-0000-abcd');
    assert.ok(!published.includes('pw2') && !event.url.includes('pw2'));
  });
});
