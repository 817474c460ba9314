import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { COCO_LABELS, type ImageLabel } from '../../server/image-labels';
import { decodeDetections } from '../../server/labels/detections';
import { labelsEnabled, MODELS_DIR, modelsInstalled, ONE_GB_MEM_TOTAL } from '../../server/labels/models-dir';
import type { StoredImage } from '../../server/storage/image-store';
import type { MemoryStatus } from '../../server/store-parts';
import { photoLike } from '../helpers/fixtures';
import { scene, variantOf } from '../helpers/scenes';
import { mosquittoInstalled, startBroker, type Broker } from '../helpers/mosquitto';
import { eventually, listen } from '../helpers/mqtt-listener';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

const memoryStatus = async (app: TestApp) => (await (await app.fetch('/memory_status')).json()) as MemoryStatus;
const upload = async (app: TestApp, body: Buffer, source = 'door'): Promise<string> => {
  const response = await postImage(app, body, `?source=${source}`);
  assert.equal(response.status, 201);
  return ((await response.json()) as { images: { id: string }[] }).images[0].id;
};
const meta = async (app: TestApp, id: string) => (await (await app.fetch(`/images/${id}/meta`)).json()) as StoredImage;
const listIds = async (app: TestApp, query: string) => {
  const response = await app.fetch(`/images?${query}`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { images: { id: string }[] }).images.map((image) => image.id);
};
const box = (x: number, y: number, w: number, h: number): [number, number, number, number] => [x, y, w, h];

const skipModels = !modelsInstalled(MODELS_DIR) && `the label models are not installed in ${MODELS_DIR} (npm run models:install)`;

describe('labels by the durable consumer, in the labels worker', { skip: skipModels }, () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ modelsDir: MODELS_DIR, settings: { labels: 'on', labels_worker_idle_seconds: 1 } });
  });
  after(() => app.destroy());

  it('labels every stored image in its record, from what the detector returns for it, and ends the worker when idle', async () => {
    // Shapes and gradients: whatever the detector makes of them, every label it keeps must be a
    // COCO class at or above label_min_score, boxed inside the stored image.
    const drawn = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#4a7' } })
      .composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><circle cx="320" cy="200" r="90" fill="#c33"/><rect x="60" y="300" width="500" height="120" fill="#234"/></svg>') }])
      .jpeg().toBuffer();
    const ids = [await upload(app, drawn), await upload(app, await photoLike(320, 240))];
    for (const id of ids) {
      const record = await eventually(() => meta(app, id), (image) => image.labels !== undefined);
      for (const label of record.labels!) {
        assert.ok((COCO_LABELS as readonly string[]).includes(label.name), label.name);
        assert.ok(label.score >= 0.4 && label.score <= 1, String(label.score));
        const [x, y, w, h] = label.box;
        assert.ok(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= record.width && y + h <= record.height, JSON.stringify(label.box));
      }
    }
    const status = await eventually(() => memoryStatus(app), (s) => s.consumers.labels?.delivered === 2);
    assert.equal(status.labels.enabled, true);
    assert.equal(status.labels.labelled, 2);
    assert.equal(status.labels.worker.starts, 1);
    // The worker is a process of its own, ended after labels_worker_idle_seconds without an image.
    const pid = status.labels.worker.pid;
    assert.ok(pid === null || existsSync(`/proc/${pid}`));
    const idle = await eventually(() => memoryStatus(app), (s) => !s.labels.worker.running, 10_000);
    assert.equal(idle.labels.worker.pid, null);
    if (pid !== null) await eventually(() => existsSync(`/proc/${pid}`), (alive) => !alive, 5000);
  });

  it('decodes the rows the detector returns for a generated image into valid labels', async () => {
    const png = await sharp(await photoLike(300, 200)).png().toFile(`${app.dataDir}/query.png`).then(() => `${app.dataDir}/query.png`);
    const worker = (app.deps.labels as unknown as { options: { worker: { detect(file: string, dir: string): Promise<number[][]> } } }).options.worker;
    const rows = await worker.detect(png, MODELS_DIR);
    // CenterNet's tower_0/detections: 100 rows of [x1, y1, x2, y2, score, class], best first.
    assert.equal(rows.length, 100);
    assert.ok(rows.every((row) => row.length === 6 && row.every(Number.isFinite)));
    assert.ok(rows.every((row, i) => i === 0 || rows[i - 1][4] >= row[4]));
    const labels = decodeDetections(rows, 300, 200, 0.05);
    assert.ok(labels.every((label) => label.box[0] + label.box[2] <= 300 && label.box[1] + label.box[3] <= 200));
  });

  it('finds an edited copy\'s original by content, from a stored image and from a query image, and forgets a removed one', async () => {
    const originals = [await scene(300), await scene(301), await scene(302)];
    const ids: string[] = [];
    for (const png of originals) ids.push(await upload(app, png, 'garden'));
    const mirrored = await upload(app, await variantOf(originals[0], 'mirrored'), 'garden');
    await eventually(() => meta(app, mirrored), (image) => image.labels !== undefined);
    for (const id of ids) assert.ok(existsSync(`${app.dataDir}/embeddings/${id}.bin`), id);

    const similar = await (await app.fetch(`/images/${mirrored}/similar?by=content&limit=3`)).json() as { by: string; results: { image: { id: string }; similarity: number }[] };
    assert.equal(similar.by, 'content');
    assert.equal(similar.results[0].image.id, ids[0]);
    assert.ok(similar.results.every((result) => result.image.id !== mirrored && result.similarity > 0 && result.similarity <= 1));
    assert.ok(similar.results[0].similarity > similar.results[1].similarity);

    const resized = await variantOf(originals[1], 'resized');
    const search = await app.fetch('/search?by=content&top_k=2&source=garden', { method: 'POST', body: resized, headers: { 'Content-Type': 'image/png' } });
    assert.equal(search.status, 200);
    const found = (await search.json()) as { query: null; results: { image: { id: string; source: string } }[] };
    assert.equal(found.results[0].image.id, ids[1]);
    assert.ok(found.results.every((result) => result.image.source === 'garden'));

    assert.equal((await app.fetch(`/images/${ids[0]}`, { method: 'DELETE' })).status, 204);
    assert.equal(existsSync(`${app.dataDir}/embeddings/${ids[0]}.bin`), false);
    const after = await (await app.fetch(`/images/${mirrored}/similar?by=content`)).json() as { results: { image: { id: string } }[] };
    assert.ok(after.results.every((result) => result.image.id !== ids[0]));
  });
});

describe('labels in the listing, the PNG and removal', () => {
  let app: TestApp;
  const ids: string[] = [];
  const person: ImageLabel = { name: 'person', score: 0.8, box: box(10, 10, 40, 60) };
  const dog: ImageLabel = { name: 'dog', score: 0.45, box: box(60, 30, 30, 20) };
  before(async () => {
    app = await startTestApp();
    for (let i = 0; i < 3; i++) ids.push(await upload(app, await photoLike(120, 90, 'jpeg', i + 1)));
    // The consumer's own write, done here: the filter reads what the record holds.
    await app.deps.store.update(ids[0], { labels: [person] });
    await app.deps.store.update(ids[1], { labels: [{ ...person, score: 0.5 }, dog] });
    await app.deps.store.update(ids[2], { labels: [] });
  });
  after(() => app.destroy());

  it('GET /images?label= lists only images with that label, min_score= only those scored as high', async () => {
    assert.deepEqual(await listIds(app, 'label=person'), [ids[1], ids[0]]);
    assert.deepEqual(await listIds(app, 'label=person&min_score=0.6'), [ids[0]]);
    assert.deepEqual(await listIds(app, 'label=dog'), [ids[1]]);
    assert.deepEqual(await listIds(app, 'label=car'), []);
    assert.deepEqual(await listIds(app, 'label=person&limit=1'), [ids[1]]);
    const page = (await (await app.fetch('/images?label=person&limit=1')).json()) as { next: string | null };
    assert.equal(page.next, ids[1]);
    assert.deepEqual(await listIds(app, `label=person&before=${page.next}`), [ids[0]]);
  });

  it('refuses an unknown label, a bad score, and min_score without label', async () => {
    for (const query of ['label=unicorn', 'label=person&min_score=2', 'label=person&min_score=abc', 'min_score=0.5']) {
      const response = await app.fetch(`/images?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_parameter');
    }
  });

  it('shows labels in the record and the gallery, and draws the boxes on request', async () => {
    assert.deepEqual((await meta(app, ids[1])).labels, [{ ...person, score: 0.5 }, dog]);
    const page = await (await app.fetch('/')).text();
    assert.match(page, new RegExp(`href="/images/${ids[1]}\\?boxes=1"[^>]*>person, dog<`));
    const response = await app.fetch(`/images/${ids[0]}?boxes=1`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/png');
    const { data, info } = await sharp(Buffer.from(await response.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [120, 90]);
    // The box's left edge is drawn in yellow; the plain PNG has no yellow there.
    const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    const [r, g, b] = at(10, 50);
    assert.ok(r > 200 && g > 200 && b < 80, `box edge pixel ${[r, g, b]}`);
    const plain = await sharp(Buffer.from(await (await app.fetch(`/images/${ids[0]}`)).arrayBuffer())).removeAlpha().raw().toBuffer();
    assert.notDeepEqual([...plain.subarray((50 * 120 + 10) * 3, (50 * 120 + 10) * 3 + 3)], [r, g, b]);
    assert.equal((await app.fetch(`/images/${ids[0]}?boxes=2`)).status, 400);
  });

  it('removes the labels with the image', async () => {
    assert.equal((await app.fetch(`/images/${ids[0]}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await listIds(app, 'label=person'), [ids[1]]);
    assert.equal((await app.fetch(`/images/${ids[0]}/meta`)).status, 404);
  });

  it('answers a search by content with 404 and how to turn labels on, while they are off', async () => {
    for (const response of [
      await app.fetch(`/images/${ids[1]}/similar?by=content`),
      await app.fetch('/search?by=content', { method: 'POST', body: await photoLike(32, 24), headers: { 'Content-Type': 'image/jpeg' } }),
    ]) {
      assert.equal(response.status, 404);
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /npm run models:install/);
    }
    assert.equal((await app.fetch(`/images/${ids[1]}/similar?by=pixels`)).status, 400);
  });

  it('is off by default under 1 GB, and without the models', async () => {
    const status = await memoryStatus(app);
    assert.deepEqual([status.labels.enabled, status.labels.models_installed, status.consumers.labels], [false, false, undefined]);
    assert.equal(labelsEnabled({ labels: 'auto' }, MODELS_DIR, 512 * 1024 * 1024), false);
    assert.equal(labelsEnabled({ labels: 'auto' }, `${app.dataDir}/no-models`, 4 * ONE_GB_MEM_TOTAL), false);
  });

  it('with labels on and no models, the consumer reports how to install them', async () => {
    const labelled = await startTestApp({ settings: { labels: 'on' } });
    try {
      await upload(labelled, await photoLike(64, 48));
      const status = await eventually(() => memoryStatus(labelled), (s) => (s.consumers.labels?.failures ?? 0) > 0);
      assert.match(status.consumers.labels!.last_error!, /not installed .*npm run models:install/);
      assert.equal(status.labels.worker.starts, 0);
    } finally {
      await labelled.destroy();
    }
  });
});

describe('labels within the memory budget', { skip: skipModels }, () => {
  it('does not start the labels worker where the budget has no room for it, and says what to raise', async () => {
    // 128 MB leaves room for a small upload beside the daemon at rest, not for the worker's 200 MB.
    const app = await startTestApp({ modelsDir: MODELS_DIR, settings: { labels: 'on', memory_budget_mb: 128 } });
    try {
      await upload(app, await photoLike(64, 48));
      const status = await eventually(() => memoryStatus(app), (s) => (s.consumers.labels?.failures ?? 0) > 0);
      assert.match(status.consumers.labels!.last_error!, /Labels need about \d+ MB .*MemoryHigh/);
      assert.equal(status.labels.worker.starts, 0);
    } finally {
      await app.destroy();
    }
  });
});

describe('labels on MQTT and Home Assistant', { skip: !mosquittoInstalled && 'mosquitto is not installed' }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startBroker();
  });
  after(() => broker.destroy());

  it('publishes a labelled event, announces a binary sensor per source and label, and turns it on', async () => {
    const prefix = `pir-labels/${process.pid}`;
    const app = await startTestApp({
      settings: {
        mqtt_url: broker.url, mqtt_username: broker.username, mqtt_password: broker.password,
        mqtt_topic_prefix: prefix, mqtt_client_id: 'pir-labels', mqtt_discovery: true, label_sensor_seconds: 45,
      },
    });
    const listener = await listen(broker, [`${prefix}/events`, `${prefix}/labels/#`, 'homeassistant/binary_sensor/#']);
    try {
      await eventually(() => memoryStatus(app), (s) => s.mqtt.enabled && s.mqtt.state === 'connected');
      const id = await upload(app, await photoLike(64, 48), 'front');
      const labels: ImageLabel[] = [{ name: 'traffic light', score: 0.7, box: box(1, 2, 3, 4) }];
      const image = (await app.deps.store.update(id, { labels }))!;
      // What Labels.label() hands MQTT once it has written the record.
      await app.deps.mqtt.publisher.labelled(image, labels, app.deps.settings.get().label_sensor_seconds);
      const [event] = await listener.waitFor((m) => m.topic === `${prefix}/events` && JSON.parse(m.payload.toString()).type === 'labelled');
      assert.deepEqual(JSON.parse(event.payload.toString()).image.labels, labels);
      const configTopic = 'homeassistant/binary_sensor/pir-labels/label_front_traffic_light/config';
      await listener.waitFor((m) => m.topic === configTopic);
      // Retained: Home Assistant finds it after its own restart (a new subscriber gets it with the flag).
      const later = await listen(broker, [configTopic]);
      const [config] = await later.waitFor((m) => m.topic === configTopic).finally(() => later.close());
      assert.equal(config.retain, true);
      const announced = JSON.parse(config.payload.toString());
      assert.equal(announced.state_topic, `${prefix}/labels/front/traffic_light`);
      assert.equal(announced.off_delay, 45);
      assert.equal(announced.device_class, 'occupancy');
      const [state] = await listener.waitFor((m) => m.topic === `${prefix}/labels/front/traffic_light`);
      assert.equal(state.payload.toString(), 'ON');
    } finally {
      await listener.close();
      await app.destroy();
    }
  });
});
