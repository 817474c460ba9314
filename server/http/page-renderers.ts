import type { Context } from 'koa';
import type { AppDeps } from '../app-deps';
import { DEFAULT_SETTINGS, publicSettings, SETTING_SPECS } from '../settings';
import { renderPage } from './page';
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
