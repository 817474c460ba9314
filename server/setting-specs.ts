import type { SettingSpec, SettingValue } from './setting-kinds';
import { DISPLAYS_SPEC } from './display-setting';
import { COCO_LABELS } from './image-labels';

/** The groups settings are shown in, in the order the pages and `--help` list them. */
export const SETTING_GROUPS = ['Images', 'Memory', 'Storage', 'Access', 'Displays', 'MQTT', 'Similarity', 'Labels'] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

/** A setting as declared: its kind, with the default, label and group every setting has. */
export type DeclaredSetting = SettingSpec & { default: unknown; label: string; group: SettingGroup };

/**
 * Every setting, declared once: its kind and range, default, label, group, unit and flags. The
 * `Settings` type, the defaults, validation, the form, `--help`, the JSON Schema and
 * config/defaults.json (scripts/write-defaults.ts) are derived from it.
 */
const SPECS = {
  max_image_dimension: {
    kind: 'integer', min: 16, max: 16384, unit: 'px', default: 2000, label: 'Longest side', group: 'Images',
    description: 'Longest side of a stored image; smaller images are never enlarged.',
  },
  compression_quality: {
    kind: 'integer', min: 0, max: 9, default: 6, label: 'PNG compression', group: 'Images',
    description: 'PNG zlib level: 0 is fastest and largest, 9 is smallest and slowest.',
  },
  enable_memory_optimization: {
    kind: 'boolean', default: true, label: 'Low-memory mode', group: 'Memory',
    description: 'Several images at once only as memory_budget_mb allows (one per core at most), one libvips thread each, no libvips cache. Off: one image per core, every core for libvips, its cache.',
  },
  memory_budget_mb: {
    kind: 'integer', min: 0, max: 65536, unit: 'MB', default: 0, label: 'Memory budget', group: 'Memory',
    description: 'With enable_memory_optimization, another image starts only while the RSS at rest plus the estimates of the images in flight fit in it. 0 is automatic: the cgroup\'s memory.high, else memory.max, else half of MemAvailable at start.',
  },
  max_upload_bytes: {
    kind: 'integer', min: 1024, max: 1024 * 1024 * 1024, unit: 'bytes', default: 50 * 1024 * 1024, label: 'Largest upload', group: 'Images',
    description: 'Largest accepted upload body; larger uploads get 413 payload_too_large.',
  },
  max_input_pixels: {
    kind: 'integer', min: 1024, max: 268402689, unit: 'pixels', default: 50_000_000, label: 'Largest image', group: 'Images',
    description: 'Largest accepted width x height, checked before decoding; larger images get 413 too_many_pixels.',
  },
  max_queue_length: {
    kind: 'integer', min: 1, max: 1000, unit: 'images', default: 64, label: 'Waiting images', group: 'Memory',
    description: 'Images that may wait for processing; beyond it uploads get 503 busy with Retry-After.',
  },
  require_token_for_reads: {
    kind: 'boolean', default: false, label: 'Token for reads', group: 'Access',
    description: 'When an API token is set, reads need it too (every route but /health and the dashboard shell).',
  },
  allowed_hosts: {
    kind: 'list', maxItems: 64, operatorOnly: true, default: [], label: 'Allowed host names', group: 'Access',
    item: { kind: 'string', maxLength: 253, pattern: /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, patternHint: 'that is a host name without a port', description: 'A host name.' },
    description: 'Host names the daemon also answers to while no API token is set, e.g. ["pi.example.net"]; IP addresses, localhost, *.local and this machine\'s own names always work. Other names are refused, against DNS rebinding.',
  },
  max_stored_images: {
    kind: 'integer', min: 0, max: 10_000_000, unit: 'images', default: 0, label: 'Most images kept', group: 'Storage',
    description: 'Most images kept; past it the oldest images every consumer has handled are removed after each upload. 0 is no limit.',
  },
  max_storage_mb: {
    kind: 'integer', min: 0, max: 16_777_216, unit: 'MB', default: 0, label: 'Most storage', group: 'Storage',
    description: 'Most megabytes of stored PNGs; past it the oldest are removed after each upload, handled or not. 0 is no limit.',
  },
  min_free_disk_mb: {
    kind: 'integer', min: 0, max: 16_777_216, unit: 'MB', default: 256, label: 'Free disk kept', group: 'Storage',
    description: 'Free space kept on the data disk: the oldest images are removed, then uploads get 507. 0 is no floor.',
  },
  duplicate_max_distance: {
    kind: 'integer', min: 0, max: 64, unit: 'bits', default: 0, label: 'Duplicate distance', group: 'Similarity',
    description: 'An upload within this many perceptual-hash bits of the newest image of its source is not stored; 0 is off. 8 is recommended (docs/similarity.md).',
  },
  feature_worker_idle_seconds: {
    kind: 'integer', min: 1, max: 3600, unit: 's', default: 60, label: 'Compare worker idle time', group: 'Similarity',
    description: 'The compare worker (OpenCV, about 85 MB) is ended after this long without a comparison.',
  },
  image_worker_idle_seconds: {
    kind: 'integer', min: 1, max: 3600, unit: 's', default: 30, label: 'Image worker idle time', group: 'Memory',
    description: 'The image worker, which processes uploads, is ended after this long without an image, giving back all it held; the next image starts it again.',
  },
  id_log_file: {
    kind: 'string', maxLength: 4096, operatorOnly: true, pattern: /^\//, patternHint: 'that is an absolute path', default: '', label: 'Id log file', group: 'Storage',
    description: 'Absolute path of a file that gets the id of every committed image, one per line, in commit order. Empty is off.',
  },
  displays: { ...DISPLAYS_SPEC, default: [], label: 'Displays', group: 'Displays' },
  // Everything naming the broker, a credential, a file or a topic is operator-only.
  mqtt_url: {
    kind: 'string', maxLength: 2048, operatorOnly: true, pattern: /^mqtts?:\/\/\S+$/, patternHint: 'that is an mqtt:// or mqtts:// URL', default: '', label: 'Broker', group: 'MQTT',
    description: 'The MQTT broker (mqtt://host:1883 or mqtts://host:8883). Empty is off.',
  },
  mqtt_client_id: {
    kind: 'string', maxLength: 128, operatorOnly: true, default: '', label: 'Client id', group: 'MQTT',
    description: 'The MQTT client id; must differ between daemons on one broker. Empty is pi-image-receiver-<hostname>.',
  },
  mqtt_username: { kind: 'string', maxLength: 256, operatorOnly: true, default: '', label: 'User name', group: 'MQTT', description: 'The MQTT user name.' },
  mqtt_password: { kind: 'string', maxLength: 1024, secret: true, default: '', label: 'Password', group: 'MQTT', description: 'The MQTT password (or use mqtt_password_file).' },
  mqtt_password_file: {
    kind: 'string', maxLength: 4096, operatorOnly: true, pattern: /^\//, patternHint: 'that is an absolute path', default: '', label: 'Password file', group: 'MQTT',
    description: 'A file whose first line is the MQTT password, read at each connect; used when mqtt_password is empty.',
  },
  mqtt_ca_file: {
    kind: 'string', maxLength: 4096, operatorOnly: true, pattern: /^\//, patternHint: 'that is an absolute path', default: '', label: 'CA certificates', group: 'MQTT',
    description: 'PEM CA certificates to check an mqtts:// broker with.',
  },
  mqtt_topic_prefix: {
    kind: 'string', maxLength: 256, operatorOnly: true, pattern: /^[^/#+][^#+]*$/, patternHint: 'without + or # and not starting with /', default: '', label: 'Topic prefix', group: 'MQTT',
    description: 'Prefix of every topic published. Empty is pi-image-receiver/<hostname>.',
  },
  mqtt_subscribe: {
    kind: 'list', maxItems: 32, operatorOnly: true, default: [], label: 'Subscribed topics', group: 'MQTT',
    item: { kind: 'string', maxLength: 256, pattern: /^\S+$/, patternHint: 'that is a topic filter', description: 'A topic filter.' },
    description: 'Topic filters whose image payloads are stored like uploads, e.g. ["frigate/+/+/snapshot"].',
  },
  mqtt_source_topic_level: {
    kind: 'integer', min: 1, max: 32, operatorOnly: true, default: 2, label: 'Source topic level', group: 'MQTT',
    description: 'Which level of an incoming topic (1 is the first) names the image source.',
  },
  mqtt_discovery: {
    kind: 'boolean', operatorOnly: true, default: false, label: 'Home Assistant discovery', group: 'MQTT',
    description: 'Announce a device with image and sensor entities to Home Assistant.',
  },
  mqtt_latest_max_dimension: {
    kind: 'integer', min: 16, max: 4096, unit: 'px', default: 640, label: 'Latest image size', group: 'MQTT',
    description: 'Long side of the retained JPEG published for Home Assistant on <prefix>/images/<source>/latest.',
  },
  public_url: {
    kind: 'string', maxLength: 2048, pattern: /^https?:\/\/\S+$/, patternHint: 'that is an http:// or https:// URL', default: '', label: 'Public address', group: 'MQTT',
    description: 'The address clients reach the daemon at, so that MQTT events carry absolute image URLs. Empty is relative URLs.',
  },
  labels: {
    kind: 'enum', values: ['auto', 'on', 'off'], default: 'auto', label: 'Object labels', group: 'Labels',
    description: 'Labels what each stored image shows (COCO objects: person, car, dog...) in a worker started on demand. auto is on when the models are installed (npm run models:install) and the machine has 1 GB of memory or more; on without the models reports the missing folder.',
  },
  label_min_score: {
    kind: 'number', min: 0.05, max: 1, default: 0.4, label: 'Lowest label score', group: 'Labels',
    description: 'Detections scored below this are not kept; below 0.4 the detector names things that are not there (docs/labels.md).',
  },
  label_keep: {
    kind: 'list', maxItems: COCO_LABELS.length, default: [], label: 'Labels kept', group: 'Labels',
    item: { kind: 'enum', values: COCO_LABELS, description: 'A COCO class name.' },
    description: 'The labels kept, e.g. ["person", "car"]; empty keeps all 80.',
  },
  label_sensor_seconds: {
    kind: 'integer', min: 1, max: 86_400, unit: 's', default: 30, label: 'Label sensor on time', group: 'Labels',
    description: 'How long a Home Assistant binary sensor of a source and label stays on after an image with that label.',
  },
  labels_worker_idle_seconds: {
    kind: 'integer', min: 1, max: 3600, unit: 's', default: 60, label: 'Labels worker idle time', group: 'Labels',
    description: 'The labels worker (the detector, about 150 MB) is ended after this long without an image.',
  },
} as const satisfies Record<string, DeclaredSetting>;

export type SettingKey = keyof typeof SPECS;

/** The complete, normalized runtime settings, as the specs declare them; frozen once built. */
export type Settings = { readonly [K in SettingKey]: SettingValue<(typeof SPECS)[K]> };

/** A partial update, as it arrives from JSON, a file or the environment. */
export type SettingsInput = { [K in keyof Settings]?: Settings[K] };

/** Every setting's spec, in the order the form and `--help` list them. */
export const SETTING_SPECS: { readonly [K in SettingKey]: DeclaredSetting } = SPECS;
