import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createLogger } from '../../server/log';
import type { MemoryStatus } from '../../server/store-parts';
import type { SettingsInput } from '../../server/settings';
import { photoLike } from '../helpers/fixtures';
import { mosquittoInstalled, startBroker, type Broker } from '../helpers/mosquitto';
import { eventually, listen, type Received } from '../helpers/mqtt-listener';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

/** Each test has its own prefix, so that no message of one reaches another's listener. */
let prefixes = 0;

describe('MQTT against a real mosquitto', { skip: !mosquittoInstalled && 'mosquitto is not installed' }, () => {
  let broker: Broker;
  let jpeg: Buffer;
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', journald: false, write: (line) => lines.push(line) });
  before(async () => {
    broker = await startBroker({ persistence: true });
    jpeg = await photoLike(160, 120);
  });
  after(() => broker.destroy());

  const startApp = (prefix: string, settings: SettingsInput = {}): Promise<TestApp> => startTestApp({
    log,
    settings: {
      mqtt_url: broker.url, mqtt_username: broker.username, mqtt_password: broker.password,
      mqtt_topic_prefix: prefix, mqtt_client_id: `pir-${prefix.replace(/\//g, '-')}`, ...settings,
    },
  });
  const nextPrefix = () => `pir-test/${process.pid}-${++prefixes}`;
  const memoryStatus = async (app: TestApp) => (await (await app.fetch('/memory_status')).json()) as MemoryStatus;
  // Connected, and subscribed when it takes images in: a message published before the broker
  // acknowledges the subscriptions never reaches a new session.
  const connected = (app: TestApp) => eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.state === 'connected' && (s.mqtt.subscribe.length === 0 || s.mqtt.subscribed));
  const upload = async (app: TestApp, source: string): Promise<string> => {
    const response = await postImage(app, jpeg, `?source=${source}`);
    assert.equal(response.status, 201);
    return ((await response.json()) as { images: { id: string }[] }).images[0].id;
  };
  const ids = (messages: Received[]) => messages.map((m) => (JSON.parse(m.payload.toString()) as { id: string }).id);
  const isEvent = (prefix: string) => (m: Received) => /^[^/]+$/.test(m.topic.slice(`${prefix}/images/`.length)) && m.topic.startsWith(`${prefix}/images/`);

  it('publishes every stored image in commit order at QoS 1, and the latest JPEG retained', async () => {
    const prefix = nextPrefix();
    const app = await startApp(prefix, { mqtt_latest_max_dimension: 100, public_url: 'http://pi.example:8000' });
    const listener = await listen(broker, [`${prefix}/images/+`, `${prefix}/events`]);
    try {
      const status = await connected(app);
      assert.equal(status.mqtt.enabled && status.mqtt.subscribed, false, 'nothing to subscribe to');
      const sent: string[] = [];
      for (let i = 0; i < 6; i++) sent.push(await upload(app, i % 2 === 0 ? 'front' : 'back'));
      const events = await listener.waitFor(isEvent(prefix), 6);
      assert.deepEqual(ids(events), sent);
      assert.ok(events.every((m) => m.qos === 1));
      assert.equal(JSON.parse(events[0].payload.toString()).url, `http://pi.example:8000/images/${sent[0]}`);
      const stored = await listener.waitFor((m) => m.topic === `${prefix}/events`, 6);
      assert.deepEqual(stored.map((m) => JSON.parse(m.payload.toString()).type), Array(6).fill('stored'));
      assert.deepEqual(stored.map((m) => JSON.parse(m.payload.toString()).image.id), sent);

      // A client that subscribes later gets the newest image of each source, as Home Assistant does.
      const late = await listen(broker, [`${prefix}/images/+/latest`]);
      const latest = await late.waitFor((m) => m.retain, 2);
      for (const message of latest) {
        const meta = await sharp(message.payload).metadata();
        assert.deepEqual([meta.format, Math.max(meta.width!, meta.height!)], ['jpeg', 100]);
      }
      await late.close();

      const response = await app.fetch(`/images/${sent[0]}`, { method: 'DELETE' });
      assert.equal(response.status, 204);
      const [removed] = await listener.waitFor((m) => m.topic === `${prefix}/events` && JSON.parse(m.payload.toString()).type === 'removed');
      assert.deepEqual(JSON.parse(removed.payload.toString()), { type: 'removed', reason: 'deleted', id: sent[0], source: 'front' });
    } finally {
      await listener.close();
      await app.destroy();
    }
  });

  /**
   * Stops the broker, lets `outage` upload (and maybe restart the daemon), starts the broker, and
   * checks that a listener whose session outlived the outage got exactly those images, in order.
   */
  const forwardsAfterOutage = async (outage: (app: TestApp) => Promise<{ app: TestApp; sent: string[] }>): Promise<void> => {
    const prefix = nextPrefix();
    let app = await startApp(prefix);
    const listener = await listen(broker, [`${prefix}/images/+`], { persistent: true });
    try {
      await connected(app);
      await broker.stop();
      await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.state !== 'connected');
      const outcome = await outage(app);
      app = outcome.app;
      const { sent } = outcome;
      // Nothing went out, nothing was lost: every image waits behind the consumer's cursor.
      assert.equal((await memoryStatus(app)).consumers.mqtt.pending, sent.length);
      await broker.start();
      const events = await listener.waitFor(isEvent(prefix), sent.length, 90_000);
      await eventually(() => memoryStatus(app), (s) => s.consumers.mqtt.pending === 0 && s.consumers.mqtt.cursor === sent.at(-1));
      assert.deepEqual(ids(events), sent);
      assert.equal(listener.messages.filter(isEvent(prefix)).length, sent.length);
    } finally {
      await listener.close();
      await app.destroy();
    }
  };

  it('stores and forwards: 20 images uploaded while the broker is down arrive once each, in order', async () => {
    await forwardsAfterOutage(async (app) => {
      const sent: string[] = [];
      // Uploads go on as usual while the broker is away.
      for (let i = 0; i < 20; i++) sent.push(await upload(app, 'cam'));
      return { app, sent };
    });
  });

  it('stores and forwards across a daemon restart while the broker is down', async () => {
    await forwardsAfterOutage(async (first) => {
      const sent: string[] = [];
      for (let i = 0; i < 10; i++) sent.push(await upload(first, 'cam'));
      const app = await first.restart();
      for (let i = 0; i < 10; i++) sent.push(await upload(app, 'cam'));
      return { app, sent };
    });
  });

  it('counts as skipped, not lost, the events of images a storage limit removed while the broker was down', async () => {
    const prefix = nextPrefix();
    const app = await startApp(prefix, { max_storage_mb: 1 });
    const listener = await listen(broker, [`${prefix}/images/+`], { persistent: true });
    try {
      await connected(app);
      await broker.stop();
      await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.state !== 'connected');
      const big = await photoLike(640, 480, 'png');
      const sent: string[] = [];
      for (let i = 0; i < 8; i++) {
        const response = await postImage(app, big, '?source=big', 'image/png');
        assert.equal(response.status, 201);
        sent.push(((await response.json()) as { images: { id: string }[] }).images[0].id);
      }
      const kept = sent.filter((id) => app.deps.store.get(id));
      assert.ok(kept.length < sent.length, 'the storage limit removed some images');
      const { skipped } = (await memoryStatus(app)).consumers.mqtt;
      assert.equal(skipped, sent.length - kept.length);
      await broker.start();
      const events = await listener.waitFor(isEvent(prefix), kept.length, 90_000);
      await eventually(() => memoryStatus(app), (s) => s.consumers.mqtt.pending === 0);
      assert.deepEqual(ids(events), kept);
    } finally {
      await listener.close();
      await app.destroy();
    }
  });

  it('stores a JPEG published on a subscribed topic under the source its topic names', async () => {
    const prefix = nextPrefix();
    const app = await startApp(prefix, { mqtt_subscribe: ['cams/+/image', `${prefix}/#`] });
    const listener = await listen(broker, [`${prefix}/images/+`]);
    try {
      await connected(app);
      await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.ingest.ignored.own_topic >= 1);
      await listener.publish('cams/back-yard/image', jpeg, 1);
      const image = await eventually(() => app.deps.store.latest('back-yard'), Boolean);
      assert.ok(image);
      assert.deepEqual([image.width, image.height], [160, 120]);
      // Through the same flow as an upload: its event goes out too, and is not taken in again.
      const [event] = await listener.waitFor((m) => m.topic === `${prefix}/images/back-yard`);
      assert.equal(JSON.parse(event.payload.toString()).id, image.id);
      const status = await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.consumers.mqtt.pending === 0);
      assert.equal(status.store.images, 1);
      assert.ok(status.mqtt.enabled && status.mqtt.ingest.stored === 1);
    } finally {
      await listener.close();
      await app.destroy();
    }
  });

  it('acknowledges a QoS 1 image only after its commit, so one lost in a crash is delivered again', async () => {
    const prefix = nextPrefix();
    let app = await startApp(prefix, { mqtt_subscribe: ['snaps/+/jpeg'] });
    const publisher = await listen(broker, []);
    let release: (() => void) | undefined;
    try {
      await connected(app);
      // The commit hangs, as if the Pi lost power while writing; then the write fails.
      app.deps.store.beforeWrite = () => new Promise((_, reject) => { release = () => reject(new Error('EIO: simulated power loss')); });
      await publisher.publish('snaps/garage/jpeg', jpeg, 1);
      await eventually(() => release, Boolean);
      await app.deps.mqtt.stop();
      release!();
      assert.equal(app.deps.store.latest('garage'), undefined);
      // Same client id, same session: the broker sends the unacknowledged message again.
      app = await app.restart();
      const image = await eventually(() => app.deps.store.latest('garage'), Boolean);
      assert.deepEqual([image!.width, image!.height], [160, 120]);
    } finally {
      release?.();
      await publisher.close();
      await app.destroy();
    }
  });

  it('tells the broker the largest packet max_upload_bytes allows, and again when it changes', async () => {
    const prefix = nextPrefix();
    const app = await startApp(prefix, { mqtt_subscribe: ['big/+/image'], max_upload_bytes: 1_000_000 });
    const publisher = await listen(broker, []);
    try {
      const before = await connected(app);
      assert.ok(before.mqtt.enabled);
      const firstConnect = before.mqtt.connected_since;
      const response = await app.fetch('/config', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ max_upload_bytes: 100_000 }),
      });
      assert.equal(response.status, 200);
      // A new connection, which tells the broker the new limit (the payload plus 64 KiB of room).
      await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.state === 'connected' && s.mqtt.subscribed && s.mqtt.connected_since !== firstConnect);
      // Over the new limit, under the old one: the broker drops it, so the daemon never holds it.
      await publisher.publish('big/porch/image', Buffer.alloc(200_000, 0xff), 1);
      await publisher.publish('big/porch/image', jpeg, 1);
      await eventually(() => app.deps.store.latest('porch'), Boolean);
      const status = await memoryStatus(app);
      assert.ok(status.mqtt.enabled);
      assert.equal(status.mqtt.ingest.received, 1);
      assert.deepEqual(status.mqtt.ingest.ignored, {});
    } finally {
      await publisher.close();
      await app.destroy();
    }
  });

  it('counts a payload that is not an image by reason, logs it once a minute per topic, and stores nothing', async () => {
    const prefix = nextPrefix();
    const app = await startApp(prefix, { mqtt_subscribe: ['sensors/+/image'] });
    const publisher = await listen(broker, []);
    try {
      const connection = await connected(app);
      assert.equal(connection.mqtt.enabled && connection.mqtt.subscribed, true, 'the broker acknowledged the subscription');
      await publisher.publish('sensors/door/image', '{"temperature": 21.5}', 1);
      await publisher.publish('sensors/door/image', 'still not an image', 1);
      const status = await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.ingest.received === 2);
      assert.ok(status.mqtt.enabled);
      assert.deepEqual(status.mqtt.ingest.ignored, { not_image: 2 });
      assert.equal(status.store.images, 0);
      assert.equal(lines.filter((line) => line.includes('"sensors/door/image": not_image')).length, 1);
    } finally {
      await publisher.close();
      await app.destroy();
    }
  });

  it('shows refused credentials on /memory_status, keeps taking uploads, and never shows a password', async () => {
    const prefix = nextPrefix();
    const wrong = 'wrong-Pa55word-1e7';
    const app = await startApp(prefix, { mqtt_password: wrong });
    try {
      const status = await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.last_error !== null);
      assert.ok(status.mqtt.enabled);
      assert.notEqual(status.mqtt.state, 'connected');
      assert.match(status.mqtt.last_error!, /bad user ?name or password|not authori[sz]ed/i);
      await upload(app, 'cam');
      const config = await (await app.fetch('/config')).text();
      const memory = await (await app.fetch('/memory_status')).text();
      const page = await (await app.fetch('/')).text();
      assert.match(page, /bad user ?name or password|not authori[sz]ed/i);
      for (const secret of [wrong, broker.password]) {
        for (const [where, text] of [['GET /config', config], ['/memory_status', memory], ['the dashboard', page], ['the log', lines.join('\n')]]) {
          assert.ok(!text.includes(secret), `${where} shows a password`);
        }
      }
      assert.equal(JSON.parse(config).mqtt_password, '********');
    } finally {
      await app.destroy();
    }
  });
});
