import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from '../log';
import { displayUrl, readPassword, type MqttSettings } from './mqtt-settings';
import { mqttTopics } from './mqtt-topics';

/** Where the connection stands, as /memory_status and the dashboard show it. */
export interface MqttConnectionStatus {
  state: 'connecting' | 'connected' | 'disconnected' | 'stopped';
  /** The broker without credentials. */
  url: string;
  client_id: string;
  topic_prefix: string;
  connected_since: string | null;
  /** Why the last attempt or connection failed, such as "Connection refused: Not authorized". */
  last_error: string | null;
  last_error_at: string | null;
  /** Connection attempts since the last success. */
  attempts: number;
  /** The wait before the next attempt, doubling from 1 s to `maxBackoffMs`. */
  retry_in_ms: number;
}

/** Handles one incoming QoS 1/2 message; the broker gets its PUBACK once this resolves. */
export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>;

export interface MqttConnectionOptions {
  settings: MqttSettings;
  log: Logger;
  /** Longest wait between attempts. @default 30000 */
  maxBackoffMs?: number;
  /** Called for every message on a subscribed topic, one at a time, before its PUBACK. */
  onMessage?: MessageHandler;
  /** The largest message the broker may send us (MQTT 5 Maximum Packet Size); it drops bigger ones. */
  maxPacketBytes?: number;
}

/**
 * One MQTT.js client with a retained last will, reconnection with a doubling backoff (on refused
 * credentials too, so a fixed password file recovers by itself) and publishes that resolve on
 * the broker's PUBACK. Emits 'connected' after each successful connect, once `online` is out.
 */
export class MqttConnection extends EventEmitter<{ connected: [] }> {
  private client: MqttClient | undefined;
  private readonly topics;
  private backoffMs = 1000;
  private readonly maxBackoffMs: number;
  private readonly current: MqttConnectionStatus;

  constructor(private readonly options: MqttConnectionOptions) {
    super();
    const { settings } = options;
    this.topics = mqttTopics(settings.topicPrefix);
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.current = {
      state: 'connecting', url: displayUrl(settings.url), client_id: settings.clientId, topic_prefix: settings.topicPrefix,
      connected_since: null, last_error: null, last_error_at: null, attempts: 0, retry_in_ms: this.backoffMs,
    };
  }

  /** True while the broker has accepted the connection. */
  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** A copy of the current status. */
  status(): MqttConnectionStatus {
    return { ...this.current };
  }

  /** Starts connecting in the background; failures are recorded in status(), never thrown. */
  async start(): Promise<void> {
    const { settings, log } = this.options;
    let options: IClientOptions;
    try {
      options = await this.clientOptions();
    } catch (err) {
      this.fail(err as Error);
      this.current.state = 'stopped';
      return;
    }
    // MQTT.js is loaded on first use, so a daemon with MQTT off never pays for it.
    const mqtt = await import('mqtt');
    const client = mqtt.connect(settings.url, options);
    this.client = client;
    this.current.attempts = 1;
    client.on('connect', () => {
      this.backoffMs = 1000;
      client.options.reconnectPeriod = this.backoffMs;
      Object.assign(this.current, { state: 'connected', connected_since: new Date().toISOString(), attempts: 0, retry_in_ms: this.backoffMs });
      log.info(`mqtt: connected to ${this.current.url} as ${settings.clientId}`);
      client.publish(this.topics.status, 'online', { qos: 1, retain: true });
      this.emit('connected');
    });
    client.on('reconnect', () => {
      client.options.password = this.password();
      this.current.state = 'connecting';
      this.current.attempts += 1;
      // MQTT.js waits reconnectPeriod before each attempt; doubling it here backs off.
      this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
      client.options.reconnectPeriod = this.backoffMs;
      this.current.retry_in_ms = this.backoffMs;
    });
    client.on('close', () => {
      if (this.current.state === 'connected') log.warn(`mqtt: connection to ${this.current.url} lost; retrying`);
      if (this.current.state !== 'stopped') this.current.state = 'disconnected';
      this.current.connected_since = null;
    });
    client.on('error', (err) => this.fail(err));
    const handle = this.options.onMessage;
    // QoS 0 messages never pass customHandleAcks; QoS 1 and 2 ones come here again after it.
    if (handle) client.on('message', (topic, payload, packet) => {
      if (packet.qos === 0) void handle(topic, payload, packet).catch(() => undefined);
    });
  }

  private fail(err: Error): void {
    const message = err.message || String(err);
    // Logged once per distinct error, not at every retry.
    if (message !== this.current.last_error) this.options.log.warn(`mqtt: ${message}`);
    this.current.last_error = message;
    this.current.last_error_at = new Date().toISOString();
  }

  /** The password for the next attempt; an unreadable file is recorded and leaves it unset. */
  private password(): string | undefined {
    try {
      return readPassword(this.options.settings) || undefined;
    } catch (err) {
      this.fail(err as Error);
      return undefined;
    }
  }

  private async clientOptions(): Promise<IClientOptions> {
    const { settings, onMessage } = this.options;
    const password = this.password();
    const ca = settings.caFile ? await readFile(settings.caFile) : undefined;
    const handle = onMessage;
    return {
      clientId: settings.clientId,
      ...(settings.username ? { username: settings.username } : {}),
      ...(password ? { password } : {}),
      ...(ca ? { ca } : {}),
      // MQTT 5: MQTT.js honours customHandleAcks (the delayed PUBACK) only at version 5.
      protocolVersion: 5,
      // A persistent session (kept a day) when taking images in, so that unacknowledged QoS 1
      // messages are redelivered after a crash and those sent while we were away wait at the broker.
      clean: settings.subscribe.length === 0,
      properties: {
        ...(settings.subscribe.length > 0 ? { sessionExpiryInterval: 86_400 } : {}),
        // A payload is held whole in memory: never take one larger than an upload may be.
        ...(this.options.maxPacketBytes ? { maximumPacketSize: Math.min(this.options.maxPacketBytes, 268_435_455) } : {}),
      },
      reconnectPeriod: this.backoffMs,
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      // Never queue while offline: the durable consumers' cursors remember what is unsent.
      queueQoSZero: false,
      will: { topic: this.topics.status, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(handle
        ? {
          // Called for QoS 1 and 2 only; the PUBACK goes out when done() is called, after the commit.
          customHandleAcks: (topic: string, payload: Buffer, packet: IPublishPacket, done: (err: Error | number, code?: number) => void) => {
            handle(topic, payload, packet).then(() => done(0), () => done(0));
          },
        }
        : {}),
    };
  }

  /**
   * Publishes and resolves once the broker has it (PUBACK for QoS 1).
   * @throws Error when not connected, so a durable consumer keeps its cursor and retries later.
   */
  async publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }, signal?: AbortSignal): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error(`MQTT broker ${this.current.url} not connected (${this.current.state})`);
    const sent = client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain ?? false });
    if (!signal) {
      await sent;
      return;
    }
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const abort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', abort, { once: true });
      sent.then(() => resolve(), reject).finally(() => signal.removeEventListener('abort', abort));
    });
  }

  /**
   * Subscribes at QoS 1 without retained messages (retain handling 2): a retained snapshot is an
   * old image, and taking it again at every reconnect would store it again. Resolves true once the
   * broker has granted every filter; false when there is none, no connection or a refusal.
   */
  async subscribe(filters: readonly string[]): Promise<boolean> {
    if (filters.length === 0 || !this.client?.connected) return false;
    const granted = await this.client.subscribeAsync([...filters], { qos: 1, rh: 2 });
    // A refused filter comes back with the failure code 0x80 as its QoS.
    return granted.length === filters.length && granted.every((grant) => grant.qos < 0x80);
  }

  /**
   * Says `offline` (retained), then drops the connection at once and stops reconnecting; bounded
   * to 2 s. Dropped, not ended politely: a polite end would wait for, and so acknowledge, an
   * incoming image still being stored, which must rather be sent again at the next connect.
   */
  async stop(): Promise<void> {
    const client = this.client;
    this.current.state = 'stopped';
    if (!client) return;
    if (client.connected) {
      const said = client.publishAsync(this.topics.status, 'offline', { qos: 1, retain: true }).catch(() => undefined);
      await Promise.race([said, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    }
    await new Promise<void>((resolve) => client.end(true, () => resolve()));
  }
}
