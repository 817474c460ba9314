/** Every topic the daemon publishes, under one prefix. */
export interface MqttTopics {
  /** `online` or `offline`, retained; `offline` is also the last will. */
  status: string;
  /** JSON {"type": "stored"|"removed"|"duplicate", ...}. */
  events: string;
  /** JSON readings every 60 s. */
  stats: string;
  /** JSON event per stored image of `source`. */
  image(source: string): string;
  /** The newest image of `source` as JPEG bytes, retained. */
  latest(source: string): string;
  /** `ON` when an image of `source` shows `label` (a Home Assistant binary sensor's state). */
  label(source: string, label: string): string;
}

/** The topics under `prefix` (no trailing slash). */
export function mqttTopics(prefix: string): MqttTopics {
  return {
    status: `${prefix}/status`,
    events: `${prefix}/events`,
    stats: `${prefix}/stats`,
    image: (source) => `${prefix}/images/${source}`,
    latest: (source) => `${prefix}/images/${source}/latest`,
    // Label names have spaces ("traffic light"): topics take them, but underscores read better.
    label: (source, label) => `${prefix}/labels/${source}/${label.replace(/ /g, '_')}`,
  };
}

/** True when `topic` lies under `prefix`: the daemon's own messages, never taken in (no loops). */
export function isUnderPrefix(topic: string, prefix: string): boolean {
  return topic === prefix || topic.startsWith(`${prefix}/`);
}

/**
 * The source named by level `level` (1 is the first) of `topic`, cleaned to the source pattern
 * (letters, digits, '.', '_', '-'; a letter or digit first; at most 64): `frigate/door/person/snapshot`
 * at level 2 is `door`. Falls back to `mqtt` when that level is missing or has nothing usable.
 */
export function sourceFromTopic(topic: string, level: number): string {
  const raw = topic.split('/')[level - 1] ?? '';
  const cleaned = raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return cleaned || 'mqtt';
}
