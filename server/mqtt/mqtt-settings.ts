import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { withoutPassword } from '../credentials';
import { DEFAULT_SETTINGS, type Settings } from '../settings';

/** The settings MQTT reads (declared in server/settings.ts), any of them left out taking its default. */
export type MqttSettingsInput = Partial<Pick<Settings,
  | 'mqtt_url' | 'mqtt_client_id' | 'mqtt_username' | 'mqtt_password' | 'mqtt_password_file' | 'mqtt_ca_file'
  | 'mqtt_topic_prefix' | 'mqtt_subscribe' | 'mqtt_source_topic_level' | 'mqtt_discovery'
  | 'mqtt_latest_max_dimension' | 'public_url' | 'max_upload_bytes'>>;

/** The normalized MQTT settings: every field set, defaults filled in. */
export interface MqttSettings {
  readonly url: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  readonly passwordFile: string;
  readonly caFile: string;
  readonly topicPrefix: string;
  readonly subscribe: readonly string[];
  readonly sourceTopicLevel: number;
  readonly discovery: boolean;
  readonly latestMaxDimension: number;
  /** public_url without its password: it is published as links. */
  readonly publicUrl: string;
  /** The largest image payload taken in (max_upload_bytes); the broker is told not to send larger packets. */
  readonly maxPayloadBytes: number;
}

/** The host's name cleaned to a single topic level (no '/', '+', '#'). */
export function topicSafeHostname(name = hostname()): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '-') || 'pi';
}

/** Normalizes the mqtt_* settings and public_url, filling in the defaults that depend on the host. */
export function mqttSettingsFrom(input: MqttSettingsInput): MqttSettings {
  const host = topicSafeHostname();
  const pick = <K extends keyof MqttSettingsInput>(key: K): Settings[K] => input[key] ?? DEFAULT_SETTINGS[key];
  return Object.freeze({
    url: pick('mqtt_url').trim(),
    clientId: pick('mqtt_client_id') || `pi-image-receiver-${host}`,
    username: pick('mqtt_username'),
    password: pick('mqtt_password'),
    passwordFile: pick('mqtt_password_file'),
    caFile: pick('mqtt_ca_file'),
    // A trailing slash would make every topic carry an empty level.
    topicPrefix: (pick('mqtt_topic_prefix') || `pi-image-receiver/${host}`).replace(/\/+$/, ''),
    subscribe: [...pick('mqtt_subscribe')],
    sourceTopicLevel: pick('mqtt_source_topic_level'),
    discovery: pick('mqtt_discovery'),
    latestMaxDimension: pick('mqtt_latest_max_dimension'),
    // Published as links (discovery, image events): a broker's readers never get its password.
    publicUrl: withoutPassword(pick('public_url').trim()),
    maxPayloadBytes: pick('max_upload_bytes'),
  });
}

/**
 * The password to connect with: mqtt_password, or else the first line of mqtt_password_file.
 * Read at every connection attempt (a few bytes, synchronously, since MQTT.js builds its CONNECT
 * packet right after announcing the attempt), so a fixed or rotated file is picked up. Empty when
 * neither is set.
 * @throws Error naming the file (never its content) when it cannot be read.
 */
export function readPassword(settings: MqttSettings): string {
  if (settings.password) return settings.password;
  if (!settings.passwordFile) return '';
  try {
    return readFileSync(settings.passwordFile, 'utf8').split(/\r?\n/)[0];
  } catch (err) {
    throw new Error(`cannot read mqtt_password_file ${settings.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The broker URL without any user:password part, for status pages and log lines. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

/**
 * True when two settings need a new connection: anything but the latest image's size and
 * public_url. A new max_upload_bytes does too, since the broker learns the largest packet it may
 * send only when the client connects.
 */
export function needsReconnect(a: MqttSettings, b: MqttSettings): boolean {
  const { latestMaxDimension: _a, publicUrl: _b, ...left } = a;
  const { latestMaxDimension: _c, publicUrl: _d, ...right } = b;
  return JSON.stringify(left) !== JSON.stringify(right);
}
