import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { discoveryMessages } from '../../../server/mqtt/mqtt-discovery';
import { imageEvent } from '../../../server/mqtt/mqtt-publisher';
import { displayUrl, mqttSettingsFrom, readPassword, topicSafeHostname } from '../../../server/mqtt/mqtt-settings';
import { isUnderPrefix, sourceFromTopic } from '../../../server/mqtt/mqtt-topics';
import type { StoredImage } from '../../../server/storage/image-store';

describe('MQTT topics and settings', () => {
  it('takes the source from the configured level, cleaned to the source pattern', () => {
    assert.equal(sourceFromTopic('frigate/front_door/person/snapshot', 2), 'front_door');
    assert.equal(sourceFromTopic('frigate/front_door/person/snapshot', 3), 'person');
    assert.equal(sourceFromTopic('cams/Garten Süd/image', 2), 'Garten-S-d');
    assert.equal(sourceFromTopic('cams/..hidden/image', 2), 'hidden');
    assert.equal(sourceFromTopic('cams', 2), 'mqtt');
    assert.equal(sourceFromTopic(`cams/${'x'.repeat(100)}/image`, 2).length, 64);
  });

  it('knows its own topics, so nothing it publishes is taken in again', () => {
    assert.ok(isUnderPrefix('pi-image-receiver/pi1/images/door/latest', 'pi-image-receiver/pi1'));
    assert.ok(!isUnderPrefix('pi-image-receiver/pi10/images/door/latest', 'pi-image-receiver/pi1'));
  });

  it('fills in host-based defaults and shows a broker URL without its credentials', () => {
    const settings = mqttSettingsFrom({ mqtt_url: 'mqtt://user:s3cret@broker:1883', mqtt_topic_prefix: 'fleet/pi7/' });
    assert.equal(settings.topicPrefix, 'fleet/pi7');
    assert.equal(settings.clientId, `pi-image-receiver-${topicSafeHostname()}`);
    assert.equal(mqttSettingsFrom({}).topicPrefix, `pi-image-receiver/${topicSafeHostname()}`);
    assert.equal(displayUrl(settings.url), 'mqtt://broker:1883');
    assert.equal(topicSafeHostname('a/b+#c'), 'a-b--c');
  });

  it('reads the password from the first line of its file, and names the file (not its content) when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-mqtt-pw-'));
    try {
      const file = join(dir, 'pw');
      await writeFile(file, 'line-one\nline-two\n');
      assert.equal(readPassword(mqttSettingsFrom({ mqtt_password_file: file })), 'line-one');
      assert.equal(readPassword(mqttSettingsFrom({ mqtt_password: 'direct', mqtt_password_file: file })), 'direct');
      assert.throws(() => readPassword(mqttSettingsFrom({ mqtt_password_file: join(dir, 'missing') })), /mqtt_password_file .*missing: ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('makes event URLs absolute under public_url', () => {
    const image = { id: '20261129T150000000-0001-abcd', source: 'door' } as StoredImage;
    assert.equal(imageEvent(image, '').url, '/images/20261129T150000000-0001-abcd');
    assert.equal(imageEvent(image, 'https://pi.example/receiver').url, 'https://pi.example/receiver/images/20261129T150000000-0001-abcd');
  });

  it('announces four sensors and an image entity per source, all on one device', () => {
    const settings = mqttSettingsFrom({ mqtt_url: 'mqtt://b', mqtt_client_id: 'pi.7', mqtt_topic_prefix: 'p' });
    const messages = discoveryMessages(settings, ['door', 'yard']);
    assert.deepEqual(messages.map((m) => m.topic), [
      'homeassistant/sensor/pi_7/rss_mb/config', 'homeassistant/sensor/pi_7/cpu_percent/config',
      'homeassistant/sensor/pi_7/images/config', 'homeassistant/sensor/pi_7/queue_length/config',
      'homeassistant/image/pi_7/image_door/config', 'homeassistant/image/pi_7/image_yard/config',
    ]);
    const payloads = messages.map((m) => JSON.parse(m.payload) as Record<string, unknown>);
    assert.ok(payloads.every((p) => JSON.stringify(p.device) === JSON.stringify(payloads[0].device)));
    assert.deepEqual([payloads[4].image_topic, payloads[4].content_type, payloads[4].availability_topic], ['p/images/door/latest', 'image/jpeg', 'p/status']);
    assert.deepEqual([payloads[0].state_topic, payloads[0].value_template], ['p/stats', '{{ value_json.rss_mb }}']);
  });

  it('says where every config comes from, with the version of package.json, and marks the health sensors diagnostic', () => {
    const { name, version, homepage } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as Record<string, string>;
    const settings = mqttSettingsFrom({ mqtt_url: 'mqtt://b', mqtt_client_id: 'pi', mqtt_topic_prefix: 'p' });
    const payloads = discoveryMessages(settings, ['door']).map((m) => JSON.parse(m.payload) as Record<string, Record<string, unknown>>);
    for (const payload of payloads) {
      // Home Assistant's origin keys; support_url only when package.json names a homepage.
      assert.deepEqual(payload.origin, { name, sw_version: version, ...(homepage ? { support_url: homepage } : {}) });
      assert.equal(payload.device.sw_version, version);
    }
    const byKey = Object.fromEntries(payloads.slice(0, 4).map((p) => [p.unique_id as unknown as string, p as Record<string, unknown>]));
    assert.deepEqual([byKey.pi_rss_mb.unit_of_measurement, byKey.pi_rss_mb.device_class], ['MiB', 'data_size']);
    assert.deepEqual(
      ['pi_rss_mb', 'pi_cpu_percent', 'pi_images', 'pi_queue_length'].map((key) => byKey[key].entity_category),
      ['diagnostic', 'diagnostic', undefined, 'diagnostic'],
    );
    assert.equal(payloads[4].entity_category, undefined);
  });
});
