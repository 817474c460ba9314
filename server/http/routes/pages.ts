import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { publicSettings, SETTING_SPECS } from '../../settings';
import { markPage, renderPage } from '../page';
import { parseSource } from '../parse-params';
import { present } from '../present';
import { presentDisplays } from './displays';
import { pageResponse, route } from '../documented-route';
import { DAY_PARAM, dayBounds, readParam, SOURCE_PARAM } from '../schemas/params';
import { automaticValues, summarySettings } from '../setting-notes';

/** How many thumbnails the dashboard shows; newer ones arrive live. */
export const DASHBOARD_IMAGES = 24;

/** The dashboard and the upload page; the configuration and memory pages share their API paths. */
export function pageRoutes(router: Router, deps: AppDeps): void {

  route(router, {
    method: 'get', path: '/', summary: 'The dashboard page: settings, latest thumbnails, live memory and CPU',
    params: [{ ...SOURCE_PARAM, description: 'Show only this source\'s images' }, DAY_PARAM],
    responses: { 200: pageResponse() },
    refusals: { invalid_parameter: 'a bad source or day' },
  }, async (ctx) => {
    markPage(ctx);
    const source = parseSource(ctx.query.source);
    const day = readParam(DAY_PARAM, ctx.query.day);
    const { images, next } = deps.store.list({ limit: DASHBOARD_IMAGES, source, ...dayBounds(day, undefined) });
    await renderPage(ctx, 'index', {
      title: 'Dashboard',
      images: images.map(present),
      sources: deps.store.sources(),
      source: source ?? '',
      day: day ?? '',
      next,
      settings: publicSettings(deps.settings.get()),
      specs: SETTING_SPECS,
      summary: summarySettings(),
      automaticValues: automaticValues(deps),
      status: await deps.monitor.status(),
      limit: DASHBOARD_IMAGES,
      displays: await presentDisplays(deps, ctx),
    });
  });

  // Where the original receiver had its upload form.
  route(router, {
    method: 'get', path: '/upload_form', summary: 'The upload page (where the original receiver had its form)', responses: { 200: pageResponse() },
  }, async (ctx) => {
    await renderPage(ctx, 'upload', { title: 'Upload', sources: deps.store.sources() });
  });

}
