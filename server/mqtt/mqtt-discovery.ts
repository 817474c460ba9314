import { topicSafeHostname, type MqttSettings } from './mqtt-settings';
import { mqttTopics } from './mqtt-topics';

/** One retained discovery message. */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/** Home Assistant's default discovery prefix. */
export const DISCOVERY_PREFIX = 'homeassistant';

/** The readings of <prefix>/stats that become sensors: key, name, unit, device class. */
const SENSORS = [
  { key: 'rss_mb', name: 'Memory (RSS)', unit: 'MB', deviceClass: 'data_size', icon: 'mdi:memory' },
  { key: 'cpu_percent', name: 'CPU', unit: '%', deviceClass: undefined, icon: 'mdi:cpu-64-bit' },
  { key: 'images', name: 'Images stored', unit: 'images', deviceClass: undefined, icon: 'mdi:image-multiple' },
  { key: 'queue_length', name: 'Queue length', unit: 'images', deviceClass: undefined, icon: 'mdi:tray-full' },
] as const;

/** A node id for discovery topics and unique ids: the client id cleaned to what HA accepts. */
function nodeId(settings: MqttSettings): string {
  return settings.clientId.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The device every entity belongs to: one per daemon. */
function device(settings: MqttSettings): Record<string, unknown> {
  return {
    identifiers: [nodeId(settings)],
    name: `Pi image receiver ${topicSafeHostname()}`,
    manufacturer: 'pi-image-receiver',
    model: 'pi-image-receiver',
    ...(settings.publicUrl ? { configuration_url: settings.publicUrl } : {}),
  };
}

/** Availability from our retained status topic (the last will says offline). */
function availability(settings: MqttSettings): Record<string, unknown> {
  return { availability_topic: mqttTopics(settings.topicPrefix).status, payload_available: 'online', payload_not_available: 'offline' };
}

/**
 * Home Assistant MQTT discovery configs: four sensors over <prefix>/stats and an `image` entity
 * per source over its retained latest JPEG. Published retained, so HA finds them after its own
 * restart too.
 */
export function discoveryMessages(settings: MqttSettings, sources: readonly string[]): DiscoveryMessage[] {
  const node = nodeId(settings);
  const topics = mqttTopics(settings.topicPrefix);
  const common = { device: device(settings), ...availability(settings) };
  const sensors = SENSORS.map((sensor) => ({
    topic: `${DISCOVERY_PREFIX}/sensor/${node}/${sensor.key}/config`,
    payload: JSON.stringify({
      name: sensor.name,
      unique_id: `${node}_${sensor.key}`,
      state_topic: topics.stats,
      value_template: `{{ value_json.${sensor.key} }}`,
      unit_of_measurement: sensor.unit,
      ...(sensor.deviceClass ? { device_class: sensor.deviceClass } : {}),
      state_class: 'measurement',
      icon: sensor.icon,
      // Stats come every 60 s; a silent daemon's readings go unavailable after three missed.
      expire_after: 180,
      ...common,
    }),
  }));
  return [...sensors, ...sources.map((source) => imageDiscovery(settings, source))];
}

/** The `image` entity of one source: the latest JPEG, raw bytes on its retained topic. */
export function imageDiscovery(settings: MqttSettings, source: string): DiscoveryMessage {
  const node = nodeId(settings);
  const object = `image_${source.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return {
    topic: `${DISCOVERY_PREFIX}/image/${node}/${object}/config`,
    payload: JSON.stringify({
      name: `Latest ${source}`,
      unique_id: `${node}_${object}`,
      image_topic: mqttTopics(settings.topicPrefix).latest(source),
      content_type: 'image/jpeg',
      device: device(settings),
      ...availability(settings),
    }),
  };
}
