import type { Logger } from '../log';
import type { StoreObserver } from '../store-events';

/** One log line per stored and per removed image, whatever way it came in or went. */
export function storeLog(log: Logger): StoreObserver {
  return {
    name: 'store-log',
    committed(images) {
      for (const image of images) {
        log.info(`stored ${image.id} source=${image.source} ${image.width}x${image.height} ${image.bytes}B ${image.processing_ms}ms`);
      }
    },
    removed(images, reason) {
      // Retention logs its own summary line; one line per image would flood the journal there.
      if (reason !== 'retention') for (const image of images) log.info(`removed ${image.id} (${reason})`);
    },
  };
}
