import { open } from 'node:fs/promises';
import type { ConsumerFactory } from '../store-events';

/**
 * The simplest durable consumer: appends the id of every committed image to `id_log_file`, one
 * per line, in commit order, and syncs the file before its cursor moves on. An audit trail of
 * what the daemon accepted, and the proof of the consumer mechanism (a SIGKILL loses no id; an
 * id may repeat after one, since delivery is at least once).
 */
export const idLogConsumer: ConsumerFactory = (settings) => {
  const file = settings.id_log_file;
  if (!file) return [];
  return [{
    name: 'id-log',
    delivery: 'each',
    config: file,
    async handle(image) {
      const handle = await open(file, 'a', 0o640);
      try {
        await handle.write(`${image.id}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
  }];
};
