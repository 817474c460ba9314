import type { ConsumerFactory } from '../store-events';
import type { MqttPublisher } from './mqtt-publisher';

/**
 * The durable consumer that publishes every stored image to MQTT, in commit order, at QoS 1:
 * handle() resolves only after the broker's PUBACKs and throws while the broker is away, so the
 * cursor stays on the first unsent image and nothing is held in memory meanwhile (store and
 * forward). Called for only while mqtt_url is set; turned off and on again, it resumes.
 */
export const mqttConsumer = (publisher: MqttPublisher): ConsumerFactory => (settings) => {
  if (!settings.mqtt_url) return [];
  return [{
    name: 'mqtt',
    delivery: 'each',
    handle: (image, signal) => publisher.stored(image, signal),
  }];
};
