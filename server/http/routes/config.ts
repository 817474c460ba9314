import Router from '@koa/router';
import { publicSettings } from '../../settings';
import type { AppDeps } from '../../app-deps';
import { prefersHtml } from '../page';
import { readJson } from '../read-json';
import { renderConfigPage } from '../page-renderers';

/** Reading and changing the runtime settings, answering as the original receiver did. */
export function configRoutes(router: Router, deps: AppDeps): void {

  // JSON by default (curl, scripts); the configuration page for a browser.
  router.get('/config', async (ctx) => {
    ctx.vary('Accept');
    if (prefersHtml(ctx)) return renderConfigPage(ctx, deps);
    ctx.body = publicSettings(deps.settings.get());
  });

  router.post('/config', async (ctx) => {
    const update = await readJson(ctx, { maxBytes: 64 * 1024, code: 'invalid_settings', hint: '{"compression_quality": 9}' });
    const config = await deps.settings.update(update);
    deps.log.info(`settings updated: ${JSON.stringify(update)}`);
    ctx.body = { status: 'success', message: 'Configuration updated', config: publicSettings(config) };
  });

}
