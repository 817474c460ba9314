import type { Context } from 'koa';
import type { AppDeps } from '../app-deps';
import { DEFAULT_SETTINGS, publicSettings, SETTING_SPECS } from '../settings';
import { renderPage } from './page';
import { present } from './present';
import { isSignature } from '../similarity/signature';
import type { StoredImage } from '../storage/image-store';
import { automaticValues, groupedSettings, setOnlyByOperator, settingsFileLine } from './setting-notes';

/** The pages that share their path with an API answer (JSON for scripts, a page for browsers). */

/**
 * The configuration page: every setting by group, in plain words, with its range and default;
 * operator-only ones read-only with their settings-file line.
 */
export function renderConfigPage(ctx: Context, deps: AppDeps): Promise<void> {
  return renderPage(ctx, 'config', {
    title: 'Configuration',
    settings: publicSettings(deps.settings.get()),
    specs: SETTING_SPECS,
    defaults: DEFAULT_SETTINGS,
    groups: groupedSettings(),
    automaticValues: automaticValues(deps),
    settingsFileLine,
    setOnlyByOperator,
  });
}

/** The memory-status page: live readings and charts, and the durable consumers' states. */
export async function renderMemoryPage(ctx: Context, deps: AppDeps): Promise<void> {
  await renderPage(ctx, 'memory', { title: 'Memory', status: await deps.monitor.status() });
}

/** How many similar images the image page shows; its link leads to the full list. */
const IMAGE_PAGE_SIMILAR = 8;

/**
 * One image's page: the picture, its record, its nearest images, a button per display, download
 * and delete. The similar images are those hashed so far: the page does not wait for a new one.
 */
export async function renderImagePage(ctx: Context, deps: AppDeps, image: StoredImage): Promise<void> {
  const similar = isSignature(image.signature)
    ? await deps.similarity.search(image.signature, { limit: IMAGE_PAGE_SIMILAR, maxDistance: 64, exclude: image.id })
    : null;
  await renderPage(ctx, 'image', {
    title: `${image.source} image`,
    image: present(image),
    similar: similar?.map((found) => ({ image: present(found.image), distance: found.distance })) ?? null,
    displays: deps.displays.profilesInForce().map((profile) => profile.name),
  });
}
