import Router from '@koa/router';
import { publicSettings } from '../../settings';
import type { AppDeps } from '../../app-deps';
import { jsonBody, jsonOrPageResponse, jsonResponse, route } from '../documented-route';
import { prefersHtml } from '../page';
import { readJson } from '../read-json';
import { renderConfigPage } from '../page-renderers';

/** Reading and changing the runtime settings, answering as the original receiver did. */
export function configRoutes(router: Router, deps: AppDeps): void {

  // JSON by default (curl, scripts); the configuration page for a browser.
  route(router, {
    method: 'get', path: '/config', summary: 'The settings in force: JSON, or the configuration page for Accept: text/html',
    responses: { 200: jsonOrPageResponse('Settings (JSON by default), or the page when the client prefers text/html', 'Settings') },
  }, async (ctx) => {
    ctx.vary('Accept');
    if (prefersHtml(ctx)) return renderConfigPage(ctx, deps);
    ctx.body = publicSettings(deps.settings.get());
  });

  route(router, {
    method: 'post', path: '/config', summary: 'Change some settings; validated whole, persisted, applied to the next image',
    body: jsonBody('SettingsUpdate'),
    responses: { 200: jsonResponse('Updated', 'ConfigUpdated') },
    refusals: {
      invalid_settings: 'a bad value or an unknown key, with a reason per field in error.fields; or a body that is not JSON',
      invalid_parameter: 'a JSON body nested too deep',
      forbidden_setting: 'an operator-only setting (x-operator-only), named in error.fields; nothing changed',
      unsupported_media_type: 'the body is not declared as application/json; nothing changed',
    },
  }, async (ctx) => {
    const update = await readJson(ctx, { maxBytes: 64 * 1024, code: 'invalid_settings', hint: '{"compression_quality": 9}' });
    const config = await deps.settings.update(update);
    deps.log.info(`settings updated: ${JSON.stringify(update)}`);
    ctx.body = { status: 'success', message: 'Configuration updated', config: publicSettings(config) };
  });

}
