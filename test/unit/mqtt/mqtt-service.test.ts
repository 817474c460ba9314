import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { MqttService } from '../../../server/mqtt/mqtt-service';
import { mqttSettingsFrom } from '../../../server/mqtt/mqtt-settings';
import { photoLike } from '../../helpers/fixtures';
import { mosquittoInstalled, startBroker, type Broker } from '../../helpers/mosquitto';
import { eventually, listen } from '../../helpers/mqtt-listener';
import { postImage, startTestApp, type TestApp } from '../../helpers/test-app';

describe('MqttService against a real mosquitto', { skip: !mosquittoInstalled && 'mosquitto is not installed' }, () => {
  let broker: Broker;
  let app: TestApp;
  let service: MqttService;
  before(async () => {
    broker = await startBroker();
    app = await startTestApp();
    const { deps } = app;
    service = new MqttService({
      settings: () => mqttSettingsFrom({
        mqtt_url: broker.url, mqtt_username: broker.username, mqtt_password: broker.password,
        mqtt_topic_prefix: 'pir/test', mqtt_subscribe: ['cams/+/image', 'pir/#'], mqtt_discovery: true,
        mqtt_latest_max_dimension: 64, public_url: 'http://pi.local:8080',
      }),
      store: deps.store, intake: deps.flow, log: deps.log,
      stats: async () => ({ rss_mb: 1, cpu_percent: 2, images: deps.store.totals().count, queue_length: 0 }),
      maxBackoffMs: 500,
    });
    await service.start();
    // Connected, and subscribed: a message published before the broker acknowledges the
    // subscriptions would never reach this new session.
    await eventually(() => service.status(), (s) => s.enabled && s.subscribed);
  });
  after(async () => {
    await service.stop();
    await app.destroy();
    await broker.destroy();
  });

  it('stores a JPEG published on a subscribed topic under the source of its second level', async () => {
    const listener = await listen(broker, []);
    try {
      await listener.publish('cams/porch/image', await photoLike(120, 80), 1);
      const image = await eventually(() => app.deps.store.latest('porch'), Boolean);
      assert.equal(image!.width, 120);
      // Counted once the upload flow answers, a moment after the image is visible in the store.
      const status = await eventually(() => service.status(), (s) => s.enabled && s.ingest.stored === 1);
      assert.equal(status.enabled && status.ingest.stored, 1);
    } finally {
      // Open, the listener would keep the broker from stopping in after().
      await listener.close();
    }
  });

  it('counts a non-image payload by reason and ignores it, and ignores its own prefix', async () => {
    const listener = await listen(broker, []);
    const before = app.deps.store.totals().count;
    await listener.publish('cams/porch/image', 'not an image at all', 1);
    await listener.publish('pir/test/images/porch/latest', await photoLike(32, 32), 1);
    const status = await eventually(() => service.status(), (s) => s.enabled && s.ingest.ignored.not_image === 1 && s.ingest.ignored.own_topic >= 1);
    assert.ok(status.enabled);
    assert.equal(app.deps.store.totals().count, before);
    await listener.close();
  });

  it('publishes the event, the stored event and the latest JPEG, at its maximum size', async () => {
    const listener = await listen(broker, ['pir/test/images/#', 'pir/test/events']);
    const response = await postImage(app, await photoLike(400, 200), '?source=door');
    assert.equal(response.status, 201);
    const image = app.deps.store.latest('door')!;
    await service.publisher.stored(image);
    const [event] = await listener.waitFor((m) => m.topic === 'pir/test/images/door');
    const record = JSON.parse(event.payload.toString());
    assert.equal(record.id, image.id);
    assert.equal(record.url, `http://pi.local:8080/images/${image.id}`);
    const [stored] = await listener.waitFor((m) => m.topic === 'pir/test/events');
    assert.equal(JSON.parse(stored.payload.toString()).type, 'stored');
    const [latest] = await listener.waitFor((m) => m.topic === 'pir/test/images/door/latest');
    const meta = await sharp(latest.payload).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 64, 32]);
    await listener.close();
  });

  it('announces Home Assistant entities: sensors and an image entity per source', async () => {
    const listener = await listen(broker, ['homeassistant/#']);
    const configs = await listener.waitFor((m) => m.topic.startsWith('homeassistant/image/'));
    const door = configs.map((m) => JSON.parse(m.payload.toString())).find((c) => c.image_topic === 'pir/test/images/door/latest');
    assert.ok(door, 'an image entity for door');
    assert.equal(door.content_type, 'image/jpeg');
    const sensors = await listener.waitFor((m) => m.topic.startsWith('homeassistant/sensor/'), 4);
    assert.ok(sensors.every((m) => m.retain));
    await listener.close();
  });

  it('drops the connection on stop with the offline status retained', async () => {
    const listener = await listen(broker, ['pir/test/status']);
    await listener.waitFor((m) => m.payload.toString() === 'online');
    await service.stop();
    await listener.waitFor((m) => m.payload.toString() === 'offline');
    assert.deepEqual(service.status(), { enabled: false });
    await listener.close();
  });
});
