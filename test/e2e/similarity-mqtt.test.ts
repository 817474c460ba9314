import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MemoryStatus } from '../../server/store-parts';
import { mosquittoInstalled, startBroker, type Broker } from '../helpers/mosquitto';
import { eventually, listen } from '../helpers/mqtt-listener';
import { scene, variantOf } from '../helpers/scenes';
import { postImage, startTestApp } from '../helpers/test-app';

describe('near-duplicates on MQTT, against a real mosquitto', { skip: !mosquittoInstalled && 'mosquitto is not installed' }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startBroker();
  });
  after(() => broker.destroy());

  it('a dropped repeat is published as a duplicate event naming the image it repeats', async () => {
    const prefix = `pir-test/${process.pid}-similarity`;
    const app = await startTestApp({
      settings: {
        duplicate_max_distance: 8,
        mqtt_url: broker.url, mqtt_username: broker.username, mqtt_password: broker.password,
        mqtt_topic_prefix: prefix, mqtt_client_id: `pir-${process.pid}-similarity`,
      },
    });
    const listener = await listen(broker, [`${prefix}/events`]);
    try {
      await eventually(async () => (await (await app.fetch('/memory_status')).json()) as MemoryStatus, (s) => s.mqtt.enabled && s.mqtt.state === 'connected');
      const still = await scene(801, 320, 240);
      const first = await postImage(app, still, '?source=gate', 'image/png');
      const id = ((await first.json()) as { images: Array<{ id: string }> }).images[0].id;
      const repeat = await postImage(app, await variantOf(still, 'jpeg_q30'), '?source=gate');
      const { duplicates } = (await repeat.json()) as { duplicates: Array<{ duplicate_of: string; distance: number }> };
      const [event] = await listener.waitFor((m) => JSON.parse(m.payload.toString()).type === 'duplicate');
      assert.deepEqual(JSON.parse(event.payload.toString()), { type: 'duplicate', source: 'gate', duplicate_of: id, distance: duplicates[0].distance });
    } finally {
      await listener.close();
      await app.destroy();
    }
  });
});
