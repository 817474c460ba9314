import type { Logger } from '../log';
import type { Monitor } from '../monitoring/monitor';
import type { Thumbnails } from '../pipeline/thumbnails';
import type { Consumers } from './consumers';
import type { ConsumerFactory } from './durable-consumer';
import { mqttConsumer } from '../mqtt/mqtt-consumer';
import type { MqttService } from '../mqtt/mqtt-service';
import { idLogConsumer } from './id-log';
import type { StoreObserver } from './observer';
import { storeLog } from './store-log';

/**
 * What happens after an image is stored, as two visible lists, as the pipeline's STEPS are.
 * Adding a consumer is one file and one line here (docs/architecture.md).
 */

/** The durable consumers: slow or remote work, each following its own persisted cursor. */
export const CONSUMERS: readonly ConsumerFactory[] = [
  idLogConsumer,
  mqttConsumer, // every stored image's events on MQTT, store-and-forward
];

/** The parts that observe the store, built in server/services.ts. */
export interface ObserverParts {
  monitor: Monitor;
  thumbnails: Thumbnails;
  consumers: Consumers;
  mqtt: MqttService;
  log: Logger;
}

/** The in-process observers, told in this order once a request commits and on every removal. */
export function storeObservers(parts: ObserverParts): StoreObserver[] {
  return [
    parts.monitor.ingestStats, // counters on /memory_status
    parts.monitor.metrics, // Prometheus /metrics
    parts.monitor, // the dashboard's live stream
    storeLog(parts.log), // a log line per stored or removed image
    parts.thumbnails, // removes a removed image's thumbnail
    parts.consumers, // wakes the durable consumers; counts what they missed
    parts.mqtt, // removed and duplicate events on MQTT, while connected
  ];
}
