import mqtt, { type MqttClient } from 'mqtt';
import type { Broker } from './mosquitto';

/** One message a listener received. */
export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: number;
}

/** A test client on the broker that records every message on its filters. */
export interface Listener {
  client: MqttClient;
  messages: Received[];
  /** Polls until `count` messages match, or fails after `timeoutMs` naming what it has. */
  waitFor(match: (m: Received) => boolean, count?: number, timeoutMs?: number): Promise<Received[]>;
  /** Publishes as a camera or Frigate would; resolves on the PUBACK for QoS 1. */
  publish(topic: string, payload: Buffer | string, qos?: 0 | 1, retain?: boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects with the broker's credentials and subscribes to `filters` at QoS 1. A `persistent`
 * listener keeps its session at the broker, so messages published while it (or a broker with
 * persistence) was down are delivered when it is back.
 */
export async function listen(broker: Broker, filters: string[], options: { persistent?: boolean } = {}): Promise<Listener> {
  const clientId = `listener-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const client = await mqtt.connectAsync(broker.url, {
    clientId, username: broker.username, password: broker.password, protocolVersion: 5, reconnectPeriod: 200,
    ...(options.persistent ? { clean: false, properties: { sessionExpiryInterval: 3600 } } : {}),
  });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: Buffer.from(payload), retain: packet.retain, qos: packet.qos });
  });
  if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
  return {
    client,
    messages,
    async waitFor(match, count = 1, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.filter(match);
        if (found.length >= count) return found;
        if (Date.now() > deadline) {
          throw new Error(`wanted ${count} messages, have ${found.length}; topics seen: ${messages.map((m) => m.topic).join(', ')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async publish(topic, payload, qos = 1, retain = false) {
      await client.publishAsync(topic, payload, { qos, retain });
    },
    async close() {
      await client.endAsync(true);
    },
  };
}

/** Polls `read` until `ok` holds of its result; fails after `timeoutMs` showing the last value. */
export async function eventually<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
