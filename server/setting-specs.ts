import type { SettingSpec, SettingValue } from './setting-kinds';
import { DISPLAYS_SPEC } from './display-setting';
import { COCO_LABELS } from './image-labels';

/** The groups settings are shown in, in the order the pages and `--help` list them. */
export const SETTING_GROUPS = ['Images', 'Storage', 'Memory', 'Similarity', 'Labels', 'Displays', 'MQTT', 'Forwarding', 'Access'] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

/** The heading of a group on the configuration page, where its name alone says too little. */
export const GROUP_HEADINGS: Partial<Record<SettingGroup, string>> = {
  Storage: 'Storage and retention',
  Memory: 'Memory and speed',
  Displays: 'Display panels',
  Forwarding: 'Forwarding to object storage (S3)',
};

/** A setting as declared: its kind, with the default, label and group every setting has. */
export type DeclaredSetting = SettingSpec & { default: unknown; label: string; group: SettingGroup };

/**
 * A file or folder the operator names (settings file, environment, flag; never over HTTP): an
 * absolute path, empty when unused.
 */
const OPERATOR_PATH = { kind: 'string', maxLength: 4096, operatorOnly: true, pattern: /^\//, patternHint: 'that is an absolute path', default: '' } as const;

/**
 * Every setting, declared once: its kind and range, default, label, group, unit and flags. The
 * `Settings` type, the defaults, validation, the form, `--help`, the JSON Schema and
 * config/defaults.json (scripts/write-defaults.ts) are derived from it.
 */
const SPECS = {
  max_image_dimension: {
    kind: 'integer', min: 16, max: 16384, unit: 'px', default: 2000, label: 'Longest side of a stored image', group: 'Images', summary: true,
    description: 'Larger images are shrunk to it; smaller ones are never enlarged.',
  },
  compression_quality: {
    kind: 'integer', min: 0, max: 9, default: 6, label: 'PNG compression level', group: 'Images',
    description: '0 is fastest and gives the largest files; 9 is slowest and gives the smallest.',
  },
  enable_memory_optimization: {
    kind: 'boolean', default: true, label: 'Low-memory mode', group: 'Memory', summary: true,
    description: 'On: several images at once only as the memory budget allows, one thread and no cache each. Off: one image per core, as fast as the machine goes.',
  },
  memory_budget_mb: {
    kind: 'integer', min: 0, max: 65536, unit: 'MB', default: 0, zero: 'automatic', label: 'Memory budget', group: 'Memory', summary: true,
    description: 'In low-memory mode, another image starts only while the daemon and the images in flight fit in it. Automatic: the service\'s memory limit (cgroup memory.high, else memory.max), else half the memory free at start.',
  },
  max_upload_bytes: {
    kind: 'integer', min: 1024, max: 1024 * 1024 * 1024, unit: 'bytes', default: 50 * 1024 * 1024, label: 'Largest upload', group: 'Images',
    description: 'Larger uploads are refused (413 payload_too_large).',
  },
  max_input_pixels: {
    kind: 'integer', min: 1024, max: 268402689, unit: 'pixels', default: 50_000_000, label: 'Most pixels in an image', group: 'Images',
    description: 'Width times height, checked before decoding; larger images are refused (413 too_many_pixels).',
  },
  max_queue_length: {
    kind: 'integer', min: 1, max: 1000, unit: 'images', default: 64, label: 'Images that may wait', group: 'Memory',
    description: 'Beyond it uploads are asked to come back later (503 busy with Retry-After).',
  },
  require_token_for_reads: {
    kind: 'boolean', default: false, label: 'Token needed to view', group: 'Access',
    description: 'When an API token is set, looking at images and figures needs it too, not only changes (/health and the page shells stay open).',
  },
  allowed_hosts: {
    kind: 'list', maxItems: 64, operatorOnly: true, default: [], zero: 'none', example: ['pi.example.net'], label: 'Other host names', group: 'Access',
    item: { kind: 'string', maxLength: 253, pattern: /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, patternHint: 'that is a host name without a port', description: 'A host name.' },
    description: 'Names the daemon also answers to while no API token is set; IP addresses, localhost, *.local and this machine\'s own names always work. Other names are refused, against DNS rebinding.',
  },
  max_stored_images: {
    kind: 'integer', min: 0, max: 10_000_000, unit: 'images', default: 0, zero: 'no limit', label: 'Most images kept', group: 'Storage', summary: true,
    description: 'Past it, the oldest images that every display and MQTT have handled are removed after each upload.',
  },
  max_storage_mb: {
    kind: 'integer', min: 0, max: 16_777_216, unit: 'MB', default: 0, zero: 'no limit', label: 'Most disk space for images', group: 'Storage', summary: true,
    description: 'Past it, the oldest images are removed after each upload, handled or not.',
  },
  min_free_disk_mb: {
    kind: 'integer', min: 0, max: 16_777_216, unit: 'MB', default: 256, zero: 'off', label: 'Free disk space kept', group: 'Storage',
    description: 'Below it, the oldest images are removed, then uploads are refused (507).',
  },
  local_retention: {
    kind: 'enum', values: ['keep', 'until_forwarded'], default: 'keep', label: 'Local copies', group: 'Storage',
    description: 'keep: images stay until a limit above removes them. until_forwarded: an image is removed once every forwarder (s3_bucket) has it, so the SD card is only a buffer.',
  },
  duplicate_max_distance: {
    kind: 'integer', min: 0, max: 64, unit: 'bits', default: 0, zero: 'off', label: 'Skip near-duplicates within', group: 'Similarity', summary: true,
    description: 'An upload this close (perceptual-hash bits) to the newest image of its source is not stored. 8 is a good start.',
  },
  feature_worker_idle_seconds: {
    kind: 'integer', min: 1, max: 3600, unit: 's', default: 60, label: 'Stop the compare worker after', group: 'Similarity',
    description: 'The compare worker (OpenCV, about 85 MB) is ended after this long without a comparison.',
  },
  image_worker_idle_seconds: {
    kind: 'integer', min: 1, max: 3600, unit: 's', default: 30, label: 'Stop the image worker after', group: 'Memory',
    description: 'Ended after this long without an image, it gives back all it held; the next image starts it again.',
  },
  id_log_file: {
    ...OPERATOR_PATH, zero: 'off', example: '/var/log/pi-image-receiver/ids.log', label: 'File of stored ids', group: 'Storage',
    description: 'Gets the id of every stored image, one per line, in the order they were stored.',
  },
  displays: { ...DISPLAYS_SPEC, default: [], zero: 'none', label: 'Panels', group: 'Displays', summary: true },
  // Everything naming the broker, a credential, a file or a topic is operator-only.
  mqtt_url: {
    kind: 'string', maxLength: 2048, operatorOnly: true, pattern: /^mqtts?:\/\/\S+$/, patternHint: 'that is an mqtt:// or mqtts:// URL', default: '', zero: 'off', example: 'mqtt://broker.lan:1883', label: 'MQTT broker', group: 'MQTT', summary: true,
    description: 'mqtt://host:1883, or mqtts://host:8883 for TLS.',
  },
  mqtt_client_id: {
    kind: 'string', maxLength: 128, operatorOnly: true, default: '', zero: 'automatic', label: 'Client id', group: 'MQTT',
    description: 'Must differ between daemons on one broker. Automatic: pi-image-receiver-<host name>.',
  },
  mqtt_username: { kind: 'string', maxLength: 256, operatorOnly: true, default: '', zero: 'none', example: 'camera-pi', label: 'User name', group: 'MQTT', description: 'The MQTT user name.' },
  mqtt_password: { kind: 'string', maxLength: 1024, secret: true, default: '', zero: 'none', label: 'Password', group: 'MQTT', description: 'The MQTT password (or use the password file).' },
  mqtt_password_file: {
    ...OPERATOR_PATH, zero: 'none', example: '/etc/pi-image-receiver/mqtt-password', label: 'Password file', group: 'MQTT',
    description: 'A file whose first line is the MQTT password, read at each connect; used when mqtt_password is empty.',
  },
  mqtt_ca_file: {
    ...OPERATOR_PATH, zero: 'the system\'s', example: '/etc/ssl/certs/broker-ca.pem', label: 'CA certificates', group: 'MQTT',
    description: 'PEM CA certificates to check an mqtts:// broker with.',
  },
  mqtt_topic_prefix: {
    kind: 'string', maxLength: 256, operatorOnly: true, pattern: /^[^/#+][^#+]*$/, patternHint: 'without + or # and not starting with /', default: '', zero: 'automatic', label: 'Topic prefix', group: 'MQTT',
    description: 'Starts every topic published. Automatic: pi-image-receiver/<host name>.',
  },
  mqtt_subscribe: {
    kind: 'list', maxItems: 32, operatorOnly: true, default: [], zero: 'none', example: ['frigate/+/+/snapshot'], label: 'Subscribed topics', group: 'MQTT',
    item: { kind: 'string', maxLength: 256, pattern: /^\S+$/, patternHint: 'that is a topic filter', description: 'A topic filter.' },
    description: 'Images published on these topics are stored like uploads.',
  },
  mqtt_source_topic_level: {
    kind: 'integer', min: 1, max: 32, operatorOnly: true, default: 2, label: 'Topic level naming the source', group: 'MQTT',
    description: 'Which level of an incoming topic (1 is the first) names the image source.',
  },
  mqtt_discovery: {
    kind: 'boolean', operatorOnly: true, default: false, label: 'Home Assistant discovery', group: 'MQTT',
    description: 'Announce a device with image and sensor entities to Home Assistant.',
  },
  mqtt_latest_max_dimension: {
    kind: 'integer', min: 16, max: 4096, unit: 'px', default: 640, label: 'Size of the latest image', group: 'MQTT',
    description: 'Long side of the retained JPEG published for Home Assistant on <prefix>/images/<source>/latest.',
  },
  public_url: {
    kind: 'string', maxLength: 2048, pattern: /^https?:\/\/\S+$/, patternHint: 'that is an http:// or https:// URL', default: '', zero: 'none, links are relative', label: 'Public address', group: 'MQTT',
    description: 'Where clients reach the daemon, so that MQTT events carry full image links.',
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
  clip_model_dir: {
    ...OPERATOR_PATH, zero: 'off', example: '/var/lib/pi-image-receiver/clip-vit-base-patch32', label: 'CLIP model folder', group: 'Labels',
    description: 'A CLIP export in the Xenova layout (onnx/vision_model.onnx, onnx/text_model.onnx, tokenizer.json, preprocessor_config.json): with labels on, every new image is embedded by it and GET /search?text= ranks images by a text (docs/labels.md#clip). Empty is off.',
  },
  labels_worker_idle_seconds: {
    kind: 'integer', min: 1, max: 3600, unit: 's', default: 60, label: 'Labels worker idle time', group: 'Labels',
    description: 'The labels worker (the detector, about 150 MB) is ended after this long without an image.',
  },
  // Everything naming the endpoint, the bucket, a credential or a file is operator-only.
  s3_bucket: {
    kind: 'string', maxLength: 63, operatorOnly: true, pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, patternHint: 'that is an S3 bucket name', default: '', zero: 'off', example: 'cameras', label: 'Bucket', group: 'Forwarding',
    description: 'The bucket every stored image is forwarded to, in commit order (docs/fleet.md). Empty is off.',
  },
  s3_endpoint: {
    kind: 'string', maxLength: 2048, operatorOnly: true, pattern: /^https?:\/\/\S+$/, patternHint: 'that is an http:// or https:// URL', default: '', zero: 'AWS, by region', example: 'http://nas.local:9000', label: 'Endpoint', group: 'Forwarding',
    description: 'The S3 endpoint (https://s3.example.net, http://nas:9000). Empty is AWS: https://s3.<s3_region>.amazonaws.com.',
  },
  s3_region: {
    kind: 'string', maxLength: 64, operatorOnly: true, pattern: /^[a-z0-9-]+$/, patternHint: 'that is a region name', default: 'us-east-1', label: 'Region', group: 'Forwarding',
    description: 'The region requests are signed for (auto for R2; anything the server accepts for MinIO and Ceph).',
  },
  s3_prefix: {
    kind: 'string', maxLength: 512, operatorOnly: true, pattern: /^[^\\]*$/, patternHint: 'without backslashes', default: '{source}/{yyyy}/{mm}/{dd}/', label: 'Key prefix', group: 'Forwarding',
    description: 'Put before <id>.png in each key; {source}, {yyyy}, {mm} and {dd} (the capture date, else the receive date, UTC) are filled in.',
  },
  s3_access_key_id: { kind: 'string', maxLength: 256, operatorOnly: true, default: '', zero: 'none', example: 'pi1-forwarder', label: 'Access key id', group: 'Forwarding', description: 'The access key id requests are signed with.' },
  s3_secret_access_key: { kind: 'string', maxLength: 1024, secret: true, default: '', zero: 'none', label: 'Secret access key', group: 'Forwarding', description: 'The secret access key (or use s3_secret_access_key_file).' },
  s3_secret_access_key_file: {
    ...OPERATOR_PATH, zero: 'none', example: '/etc/pi-image-receiver/s3-secret', label: 'Secret key file', group: 'Forwarding',
    description: 'A file whose first line is the secret access key, read at each upload; used when s3_secret_access_key is empty.',
  },
  s3_force_path_style: {
    kind: 'boolean', operatorOnly: true, default: false, label: 'Path-style addressing', group: 'Forwarding',
    description: 'Address the bucket in the path (endpoint/bucket/key), as MinIO and Ceph RGW need, not in the host name.',
  },
  s3_ca_file: {
    ...OPERATOR_PATH, zero: 'the system\'s', example: '/etc/ssl/certs/nas-ca.pem', label: 'S3 CA certificates', group: 'Forwarding',
    description: 'PEM CA certificates to check an https:// endpoint with (a NAS with its own CA).',
  },
  s3_storage_class: {
    kind: 'string', maxLength: 64, pattern: /^[A-Z_]*$/, patternHint: 'that is a storage class such as STANDARD_IA', default: '', zero: 'the bucket\'s default', label: 'Storage class', group: 'Forwarding',
    description: 'The x-amz-storage-class of each object. Empty is the bucket\'s default.',
  },
  s3_upload_records: {
    kind: 'boolean', default: false, label: 'Upload records', group: 'Forwarding',
    description: 'Also put each image\'s JSON record beside it, as <id>.json.',
  },
  s3_delete_with_local: {
    kind: 'boolean', default: false, label: 'Delete with local', group: 'Forwarding',
    description: 'Deleting an image over the API also deletes its objects. Retention never does.',
  },
} as const satisfies Record<string, DeclaredSetting>;

export type SettingKey = keyof typeof SPECS;

/** The complete, normalized runtime settings, as the specs declare them; frozen once built. */
export type Settings = { readonly [K in SettingKey]: SettingValue<(typeof SPECS)[K]> };

/** A partial update, as it arrives from JSON, a file or the environment. */
export type SettingsInput = { [K in keyof Settings]?: Settings[K] };

/** Every setting's spec, in the order the form and `--help` list them. */
export const SETTING_SPECS: { readonly [K in SettingKey]: DeclaredSetting } = SPECS;
