import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../helpers/daemon-process';
import { photoLike } from '../helpers/fixtures';
import { mosquittoInstalled, startBroker, type Broker } from '../helpers/mosquitto';
import { eventually, listen } from '../helpers/mqtt-listener';

describe('the daemon on MQTT, configured from the environment', { skip: !mosquittoInstalled && 'mosquitto is not installed' }, () => {
  let broker: Broker;
  let dir: string;
  before(async () => {
    broker = await startBroker();
    dir = await mkdtemp(join(tmpdir(), 'pir-mqtt-e2e-'));
  });
  after(async () => {
    await broker.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes, takes images in, says offline when stopped, and never shows the password from its file', async () => {
    const passwordFile = join(dir, 'mqtt-password');
    await writeFile(passwordFile, `${broker.password}\n`, { mode: 0o600 });
    const prefix = 'e2e/garden-pi';
    const listener = await listen(broker, [`${prefix}/#`]);
    const daemon = await startDaemon(join(dir, 'data'), {
      MQTT_URL: broker.url, MQTT_USERNAME: broker.username, MQTT_PASSWORD_FILE: passwordFile,
      MQTT_TOPIC_PREFIX: prefix, MQTT_SUBSCRIBE: '["cams/+/image"]', MQTT_DISCOVERY: 'true', LOG_LEVEL: 'debug',
    });
    try {
      await listener.waitFor((m) => m.topic === `${prefix}/status` && m.payload.toString() === 'online');
      const [stats] = await listener.waitFor((m) => m.topic === `${prefix}/stats`);
      const readings = JSON.parse(stats.payload.toString()) as Record<string, number>;
      assert.ok(readings.rss_mb > 0);
      assert.deepEqual([typeof readings.cpu_percent, readings.images, readings.queue_length], ['number', 0, 0]);
      const response = await fetch(`${daemon.url}/images?source=porch`, { method: 'POST', body: await photoLike(200, 100) });
      assert.equal(response.status, 201);
      const { images } = (await response.json()) as { images: { id: string }[] };
      const [event] = await listener.waitFor((m) => m.topic === `${prefix}/images/porch`);
      assert.equal(JSON.parse(event.payload.toString()).id, images[0].id);
      await listener.waitFor((m) => m.topic === `${prefix}/images/porch/latest`);

      await listener.publish('cams/driveway/image', await photoLike(64, 48), 1);
      await listener.waitFor((m) => m.topic === `${prefix}/images/driveway`);

      const config = await (await fetch(`${daemon.url}/config`)).text();
      const memory = await eventually(async () => (await fetch(`${daemon.url}/memory_status`)).text(), (text) => text.includes('"state":"connected"'));
      for (const [where, text] of [['GET /config', config], ['/memory_status', memory]]) {
        assert.ok(!text.includes(broker.password), `${where} shows the password`);
      }
      assert.equal(JSON.parse(config).mqtt_password_file, passwordFile);
    } finally {
      await daemon.stop();
    }
    await listener.waitFor((m) => m.topic === `${prefix}/status` && m.payload.toString() === 'offline');
    await listener.close();
    assert.ok(!daemon.output().includes(broker.password), 'the log shows the password');
    assert.match(daemon.output(), /mqtt: connected to mqtt:\/\/127\.0\.0\.1:\d+/);
  });
});
