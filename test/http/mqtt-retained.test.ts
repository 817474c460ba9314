import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { RETAINED_FILE } from '../../server/mqtt/mqtt-retained';
import type { MemoryStatus } from '../../server/store-parts';
import type { SettingsInput } from '../../server/settings';
import { photoLike } from '../helpers/fixtures';
import { mosquittoInstalled, startBroker, type Broker } from '../helpers/mosquitto';
import { eventually, listen } from '../helpers/mqtt-listener';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

/** Each test has its own prefix and client id, so that no retained message of one is seen by another. */
let prefixes = 0;

/**
 * The retained messages a client subscribing now gets on `filters`, topic to payload: a FRESH
 * subscriber, as Home Assistant after a restart. The broker sends retained messages right after
 * the subscription and keeps a client's messages in order, so once a marker published after it
 * comes back, every retained one is in.
 */
async function retainedNow(broker: Broker, filters: string[]): Promise<Map<string, Buffer>> {
  const marker = `pir-marker/${process.pid}/${Math.random().toString(36).slice(2)}`;
  const listener = await listen(broker, [...filters, marker]);
  try {
    await listener.publish(marker, 'end', 1);
    await listener.waitFor((m) => m.topic === marker);
    return new Map(listener.messages.filter((m) => m.retain && m.topic !== marker).map((m) => [m.topic, m.payload]));
  } finally {
    await listener.close();
  }
}

describe('retained MQTT messages follow the store', { skip: !mosquittoInstalled && 'mosquitto is not installed' }, () => {
  let broker: Broker;
  let wide: Buffer;
  let tall: Buffer;
  before(async () => {
    // Persistence on: retained messages outlive a broker restart, as on a real broker.
    broker = await startBroker({ persistence: true });
    wide = await photoLike(160, 120, 'jpeg', 1);
    tall = await photoLike(90, 150, 'jpeg', 2);
  });
  after(() => broker.destroy());

  const settingsFor = (prefix: string, settings: SettingsInput = {}): SettingsInput => ({
    mqtt_url: broker.url, mqtt_username: broker.username, mqtt_password: broker.password,
    mqtt_topic_prefix: prefix, mqtt_client_id: `pir-${prefix.replace(/\//g, '-')}`, mqtt_discovery: true, ...settings,
  });
  const nextPrefix = () => `pir-retained/${process.pid}-${++prefixes}`;
  const nodeOf = (prefix: string) => `pir-${prefix.replace(/\//g, '-')}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const memoryStatus = async (app: TestApp) => (await (await app.fetch('/memory_status')).json()) as MemoryStatus;
  const settled = (app: TestApp) => eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.state === 'connected' && s.consumers.mqtt?.pending === 0);
  const upload = async (app: TestApp, jpeg: Buffer, source: string): Promise<string> => {
    const response = await postImage(app, jpeg, `?source=${source}`);
    assert.equal(response.status, 201);
    return ((await response.json()) as { images: { id: string }[] }).images[0].id;
  };
  const remove = async (app: TestApp, path: string) => assert.equal((await app.fetch(path, { method: 'DELETE' })).status, path.includes('confirm') ? 200 : 204);
  /** The size of the retained JPEG on `topic`, as a fresh subscriber gets it; undefined when none. */
  const latestSize = async (prefix: string, source: string): Promise<string | undefined> => {
    const topic = `${prefix}/images/${source}/latest`;
    const jpeg = (await retainedNow(broker, [topic])).get(topic);
    if (!jpeg) return undefined;
    const meta = await sharp(jpeg).metadata();
    return `${meta.format} ${meta.width}x${meta.height}`;
  };
  const discoveryTopics = async (prefix: string): Promise<string[]> => [...(await retainedNow(broker, [`homeassistant/+/${nodeOf(prefix)}/+/config`])).keys()].sort();

  it('deleting a source\'s latest image republishes the one before it; deleting the only one clears it and its entity', async () => {
    const prefix = nextPrefix();
    const app = await startTestApp({ settings: settingsFor(prefix) });
    try {
      const older = await upload(app, wide, 'porch');
      const newer = await upload(app, tall, 'porch');
      await settled(app);
      await eventually(() => latestSize(prefix, 'porch'), (size) => size === 'jpeg 90x150');
      const entity = `homeassistant/image/${nodeOf(prefix)}/image_porch/config`;
      assert.ok((await discoveryTopics(prefix)).includes(entity));

      await remove(app, `/images/${newer}`);
      await eventually(() => latestSize(prefix, 'porch'), (size) => size === 'jpeg 160x120');

      await remove(app, `/images/${older}`);
      await eventually(() => latestSize(prefix, 'porch'), (size) => size === undefined);
      const left = await eventually(() => discoveryTopics(prefix), (topics) => !topics.includes(entity));
      // The daemon's own sensors stay: only the source went.
      assert.equal(left.filter((topic) => topic.startsWith('homeassistant/sensor/')).length, 4);
    } finally {
      await app.destroy();
    }
  });

  it('DELETE /images?confirm=all leaves no retained image of any source, and no image entity', async () => {
    const prefix = nextPrefix();
    const app = await startTestApp({ settings: settingsFor(prefix) });
    try {
      for (const source of ['front', 'back', 'side']) await upload(app, wide, source);
      await settled(app);
      await eventually(() => retainedNow(broker, [`${prefix}/#`]), (retained) => retained.size === 4); // three latest and the status
      await remove(app, '/images?confirm=all');
      const retained = await eventually(() => retainedNow(broker, [`${prefix}/#`]), (r) => r.size === 1);
      assert.deepEqual([...retained.keys()], [`${prefix}/status`]);
      const topics = await eventually(() => discoveryTopics(prefix), (t) => t.every((topic) => !topic.startsWith('homeassistant/image/')));
      assert.equal(topics.length, 4);
      // The record of what is retained shrinks with it: nothing is kept for sources that are gone.
      const record = JSON.parse(await readFile(join(app.dataDir, RETAINED_FILE), 'utf8')) as { latest: object; discovery: string[] };
      assert.deepEqual([record.latest, [...record.discovery].sort()], [{}, topics]);
    } finally {
      await app.destroy();
    }
  });

  it('clears what was removed while the broker was away, across a daemon restart, once the broker is back', async () => {
    const prefix = nextPrefix();
    let app = await startTestApp({ settings: settingsFor(prefix) });
    try {
      await upload(app, wide, 'garage');
      const older = await upload(app, wide, 'drive');
      const newer = await upload(app, tall, 'drive');
      await settled(app);
      await eventually(() => latestSize(prefix, 'drive'), (size) => size === 'jpeg 90x150');
      await eventually(() => latestSize(prefix, 'garage'), (size) => size === 'jpeg 160x120');
      await broker.stop();
      await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.state !== 'connected');
      await remove(app, `/images/${newer}`);
      const garage = (await (await app.fetch('/images?source=garage')).json()) as { images: { id: string }[] };
      await remove(app, `/images/${garage.images[0].id}`);
      // Nothing in memory survives this: only the record in the data dir.
      app = await app.restart();
      await broker.start();
      await settled(app);
      await eventually(() => latestSize(prefix, 'garage'), (size) => size === undefined);
      await eventually(() => latestSize(prefix, 'drive'), (size) => size === 'jpeg 160x120');
      assert.ok(app.deps.store.get(older));
      await eventually(() => discoveryTopics(prefix), (topics) => !topics.includes(`homeassistant/image/${nodeOf(prefix)}/image_garage/config`));
    } finally {
      await broker.start();
      await app.destroy();
    }
  });

  it('turning discovery off clears every config it announced, and announces none', async () => {
    const prefix = nextPrefix();
    let app = await startTestApp({ settings: settingsFor(prefix) });
    try {
      await upload(app, wide, 'yard');
      await settled(app);
      const announced = await eventually(() => discoveryTopics(prefix), (topics) => topics.length === 5);
      assert.deepEqual(announced.map((topic) => topic.split('/')[1]), ['image', 'sensor', 'sensor', 'sensor', 'sensor']);
      await app.close();
      app = await startTestApp({ settings: settingsFor(prefix, { mqtt_discovery: false }), dataDir: app.dataDir });
      await settled(app);
      await eventually(() => discoveryTopics(prefix), (topics) => topics.length === 0);
      // The image itself stays retained: only Home Assistant's entities went.
      assert.equal(await latestSize(prefix, 'yard'), 'jpeg 160x120');
    } finally {
      await app.destroy();
    }
  });
});
