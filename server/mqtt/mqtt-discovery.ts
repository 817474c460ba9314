import { installedPackage } from '../installed-package';
import { topicSafeHostname, type MqttSettings } from './mqtt-settings';
import { mqttTopics } from './mqtt-topics';

/** One retained discovery message. */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/** Home Assistant's default discovery prefix. */
export const DISCOVERY_PREFIX = 'homeassistant';

/**
 * The readings of <prefix>/stats that become sensors. The daemon's own health (memory, CPU,
 * queue) is `diagnostic`, so Home Assistant lists it apart from what the device is for: images.
 * `rss_mb` is RSS / 1024², so MiB, a unit HA's `data_size` device class accepts.
 */
const SENSORS = [
  { key: 'rss_mb', name: 'Memory (RSS)', unit: 'MiB', deviceClass: 'data_size', icon: 'mdi:memory', diagnostic: true },
  { key: 'cpu_percent', name: 'CPU', unit: '%', deviceClass: undefined, icon: 'mdi:cpu-64-bit', diagnostic: true },
  { key: 'images', name: 'Images stored', unit: 'images', deviceClass: undefined, icon: 'mdi:image-multiple', diagnostic: false },
  { key: 'queue_length', name: 'Queue length', unit: 'images', deviceClass: undefined, icon: 'mdi:tray-full', diagnostic: true },
] as const;

/** Home Assistant's `origin`: which application announced the entity, logged by HA when it adds one. */
export function discoveryOrigin(): Record<string, string> {
  const { name, version, homepage } = installedPackage();
  return { name, sw_version: version, ...(homepage ? { support_url: homepage } : {}) };
}

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
    sw_version: installedPackage().version,
    ...(settings.publicUrl ? { configuration_url: settings.publicUrl } : {}),
  };
}

/** What every config carries: the device, the origin, and availability from our retained status topic. */
function common(settings: MqttSettings): Record<string, unknown> {
  return {
    device: device(settings),
    origin: discoveryOrigin(),
    availability_topic: mqttTopics(settings.topicPrefix).status,
    payload_available: 'online',
    payload_not_available: 'offline',
  };
}

/**
 * Home Assistant MQTT discovery configs: four sensors over <prefix>/stats and an `image` entity
 * per source over its retained latest JPEG. Published retained, so HA finds them after its own
 * restart too.
 */
export function discoveryMessages(settings: MqttSettings, sources: readonly string[]): DiscoveryMessage[] {
  const node = nodeId(settings);
  const topics = mqttTopics(settings.topicPrefix);
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
      ...(sensor.diagnostic ? { entity_category: 'diagnostic' } : {}),
      icon: sensor.icon,
      // Stats come every 60 s; a silent daemon's readings go unavailable after three missed.
      expire_after: 180,
      ...common(settings),
    }),
  }));
  return [...sensors, ...sources.map((source) => imageDiscovery(settings, source))];
}

/** The object id of one source's `image` entity: the source cleaned to what HA accepts. */
function imageObjectId(source: string): string {
  return `image_${source.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** The discovery topic of one source's `image` entity. */
export function imageDiscoveryTopic(settings: MqttSettings, source: string): string {
  return `${DISCOVERY_PREFIX}/image/${nodeId(settings)}/${imageObjectId(source)}/config`;
}

/** The `image` entity of one source: the latest JPEG, raw bytes on its retained topic. */
export function imageDiscovery(settings: MqttSettings, source: string): DiscoveryMessage {
  return {
    topic: imageDiscoveryTopic(settings, source),
    payload: JSON.stringify({
      name: `Latest ${source}`,
      unique_id: `${nodeId(settings)}_${imageObjectId(source)}`,
      image_topic: mqttTopics(settings.topicPrefix).latest(source),
      content_type: 'image/jpeg',
      ...common(settings),
    }),
  };
}

/**
 * The `binary_sensor` of one source and label (an occupancy sensor, as Frigate's): on when an
 * image of `source` shows `label`, off again `offDelaySeconds` later, timed by Home Assistant.
 */
export function labelSensorDiscovery(settings: MqttSettings, source: string, label: string, offDelaySeconds: number): DiscoveryMessage {
  const objectId = `label_${source}_${label}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    topic: `${DISCOVERY_PREFIX}/binary_sensor/${nodeId(settings)}/${objectId}/config`,
    payload: JSON.stringify({
      name: `${source} ${label}`,
      unique_id: `${nodeId(settings)}_${objectId}`,
      state_topic: mqttTopics(settings.topicPrefix).label(source, label),
      payload_on: 'ON',
      off_delay: offDelaySeconds,
      device_class: 'occupancy',
      icon: label === 'person' ? 'mdi:account' : 'mdi:shape',
      ...common(settings),
    }),
  };
}
