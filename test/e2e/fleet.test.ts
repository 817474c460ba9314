import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { photoLike } from '../helpers/fixtures';
import { eventually, listen, type Listener } from '../helpers/mqtt-listener';
import { mosquittoInstalled, startBroker, type Broker } from '../helpers/mosquitto';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

const PIS = ['pi1', 'pi2'] as const;
const IMAGES_PER_PI = 10;

/**
 * The fleet topology of docs/fleet.md: each Pi's daemon publishes to its own mosquitto, which
 * bridges to a central one (cleansession false, QoS 1, the Pi's prefix remapped to fleet/<pi>/).
 * The central broker is stopped while both Pis publish, then started again: every event reaches
 * the central subscriber, in order per Pi.
 */
describe('a fleet of Pis on bridged brokers', { skip: mosquittoInstalled ? false : 'Debian\'s mosquitto is not installed', timeout: 180_000 }, () => {
  let central: Broker;
  const local: Broker[] = [];
  const apps: TestApp[] = [];
  let subscriber: Listener;

  before(async () => {
    // Persistence keeps the subscriber's session, and what it has not received, across the restart.
    central = await startBroker({ persistence: true });
    for (const pi of PIS) {
      local.push(await startBroker({
        extraConfig: [
          // Messages for the central broker wait here while it is away.
          'max_queued_messages 10000',
          `connection ${pi}-to-central`,
          `address 127.0.0.1:${central.port}`,
          `remote_clientid bridge-${pi}`,
          `remote_username ${central.username}`,
          `remote_password ${central.password}`,
          'cleansession false',
          'restart_timeout 1 2',
          `topic # out 1 pi-image-receiver/${pi}/ fleet/${pi}/`,
        ],
      }));
    }
    subscriber = await listen(central, ['fleet/+/events'], { persistent: true });
    for (const [i, pi] of PIS.entries()) {
      apps.push(await startTestApp({
        settings: {
          mqtt_url: local[i].url, mqtt_username: local[i].username, mqtt_password: local[i].password,
          mqtt_client_id: `daemon-${pi}`, mqtt_topic_prefix: `pi-image-receiver/${pi}`, min_free_disk_mb: 0,
        },
      }));
    }
  });

  after(async () => {
    for (const app of apps) await app.destroy();
    await subscriber?.close();
    for (const broker of [...local, central]) await broker?.destroy();
  });

  it('delivers every event of both Pis through a central broker restart, in order per Pi', async () => {
    const stored = new Map<string, string[]>(PIS.map((pi) => [pi, []]));
    const upload = async (pi: number, n: number): Promise<void> => {
      const res = await postImage(apps[pi], await photoLike(96, 64, 'jpeg', pi * 100 + n), '?source=cam');
      assert.equal(res.status, 201);
      stored.get(PIS[pi])!.push(((await res.json()) as { images: Array<{ id: string }> }).images[0].id);
    };
    const half = IMAGES_PER_PI / 2;
    for (let n = 0; n < half; n++) await Promise.all(PIS.map((_, pi) => upload(pi, n)));
    await subscriber.waitFor((m) => m.topic.endsWith('/events'), 2);
    // Both Pis go on publishing while the central broker is down.
    const publishing = (async () => {
      for (let n = half; n < IMAGES_PER_PI; n++) await Promise.all(PIS.map((_, pi) => upload(pi, n)));
    })();
    await central.stop();
    await publishing;
    const storedEvents = (): number => subscriber.messages.filter((m) => m.topic.endsWith('/events') && JSON.parse(m.payload.toString()).type === 'stored').length;
    assert.ok(storedEvents() < PIS.length * IMAGES_PER_PI, `some events were published while the central broker was down (${storedEvents()} arrived)`);
    // Every daemon hands its events to its own broker, which holds them for the bridge: a
    // consumer publishes after the upload is answered, so its last event may trail the answer.
    for (const app of apps) await eventually(() => app.deps.consumers.status().mqtt.pending, (pending) => pending === 0, 10_000);
    await central.start();
    for (const pi of PIS) {
      const events = await subscriber.waitFor((m) => m.topic === `fleet/${pi}/events` && JSON.parse(m.payload.toString()).type === 'stored', IMAGES_PER_PI, 60_000);
      const ids = events.map((m) => (JSON.parse(m.payload.toString()) as { image: { id: string } }).image.id);
      // At least once: a repeat is allowed, a gap or a reordering is not.
      const firsts = ids.filter((id, i) => ids.indexOf(id) === i);
      assert.deepEqual(firsts, stored.get(pi), `${pi}: every event, in commit order`);
      assert.deepEqual(firsts, [...firsts].sort(), `${pi}: in id order`);
    }
  });
});
