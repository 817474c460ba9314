import type { Logger } from '../log';
import type { ConsumerFactory } from '../store-events';
import type { Displays } from './displays';
import { completeProfiles } from './profiles';

/**
 * One durable consumer per display, `display-<name>`: after each commit it renders the frame
 * (never on the upload's path) and runs the display's command. With a command, delivery is
 * `latest`: an e-paper refresh takes 20-40 s, so only the newest waiting image is shown and the
 * ones passed over count as skipped. Without a command, each image gets its frame made
 * (`render: on_store`), so GET /images/:id/frame answers at once.
 */
export function displayConsumers(displays: Displays, log: Logger): ConsumerFactory {
  return (settings) => completeProfiles(settings.displays)
    .filter((profile) => profile.command !== undefined || profile.render === 'on_store')
    .map((profile) => ({
      name: `display-${profile.name}`,
      delivery: profile.command ? 'latest' as const : 'each' as const,
      config: profile,
      async handle(image, signal) {
        const outcome = await displays.show(profile, image, signal);
        // A failed refresh is recorded on the display (GET /displays) and not retried: the next
        // image or POST /displays/NAME/show tries again, rather than a broken panel every minute.
        if (outcome.status === 'failed') log.debug(`display-${profile.name}: run for ${image.id} failed`);
      },
    }));
}
