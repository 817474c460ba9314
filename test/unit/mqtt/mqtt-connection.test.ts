import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../server/log';
import { MqttConnection } from '../../../server/mqtt/mqtt-connection';
import { mqttSettingsFrom } from '../../../server/mqtt/mqtt-settings';
import { mosquittoInstalled, startBroker, type Broker } from '../../helpers/mosquitto';
import { eventually, listen } from '../../helpers/mqtt-listener';

describe('MqttConnection against a real mosquitto', { skip: !mosquittoInstalled && 'mosquitto is not installed' }, () => {
  let broker: Broker;
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', journald: false, write: (line) => lines.push(line) });
  before(async () => { broker = await startBroker(); });
  after(() => broker.destroy());

  const settingsFor = (password: string, prefix: string) => mqttSettingsFrom({
    mqtt_url: broker.url, mqtt_username: broker.username, mqtt_password: password, mqtt_topic_prefix: prefix, mqtt_client_id: `c-${prefix}`,
  });

  it('says online (retained) once connected and offline as its last will when it dies', async () => {
    const listener = await listen(broker, ['conn-a/status']);
    const connection = new MqttConnection({ settings: settingsFor(broker.password, 'conn-a'), log, maxBackoffMs: 500 });
    try {
      await connection.start();
      await eventually(() => connection.status().state, (s) => s === 'connected');
      await listener.waitFor((m) => m.topic === 'conn-a/status' && m.payload.toString() === 'online');
      await connection.publish('conn-a/x', 'hello', { qos: 1 });
    } finally {
      await connection.stop();
    }
    await listener.waitFor((m) => m.topic === 'conn-a/status' && m.payload.toString() === 'offline');
    assert.equal(connection.status().state, 'stopped');
    await listener.close();
  });

  it('shows refused credentials clearly, keeps retrying, and never says the password', async () => {
    const wrong = 'wrong-password-77x';
    const connection = new MqttConnection({ settings: settingsFor(wrong, 'conn-b'), log, maxBackoffMs: 500 });
    try {
      await connection.start();
      const status = await eventually(() => connection.status(), (s) => s.last_error !== null);
      assert.notEqual(status.state, 'connected');
      assert.match(status.last_error!, /not authori[sz]ed|bad user ?name or password/i);
      await assert.rejects(connection.publish('conn-b/x', 'x', { qos: 1 }), /not connected/);
      await eventually(() => connection.status().attempts, (n) => n >= 2);
      assert.ok(!JSON.stringify(connection.status()).includes(wrong));
      assert.ok(!lines.join('\n').includes(wrong));
    } finally {
      await connection.stop();
    }
  });

  it('reads the password file again at each attempt, so fixing it needs no restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-mqtt-pwfile-'));
    const file = join(dir, 'password');
    await writeFile(file, 'not-the-password\n');
    const settings = mqttSettingsFrom({
      mqtt_url: broker.url, mqtt_username: broker.username, mqtt_password_file: file, mqtt_topic_prefix: 'conn-d', mqtt_client_id: 'c-conn-d',
    });
    const connection = new MqttConnection({ settings, log, maxBackoffMs: 500 });
    try {
      await connection.start();
      await eventually(() => connection.status().last_error, (e) => e !== null);
      await writeFile(file, `${broker.password}\n`);
      await eventually(() => connection.connected, Boolean);
    } finally {
      await connection.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reconnects on its own when the broker comes back on the same port', async () => {
    const connection = new MqttConnection({ settings: settingsFor(broker.password, 'conn-c'), log, maxBackoffMs: 500 });
    try {
      await connection.start();
      await eventually(() => connection.connected, Boolean);
      await broker.stop();
      await eventually(() => connection.status().state, (s) => s !== 'connected');
      await assert.rejects(connection.publish('conn-c/x', 'x', { qos: 1 }), /not connected/);
      await broker.start();
      await eventually(() => connection.connected, Boolean);
      await connection.publish('conn-c/x', 'x', { qos: 1 });
    } finally {
      await connection.stop();
    }
  });
});
