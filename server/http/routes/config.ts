import Router from '@koa/router';
import { AppError } from '../../errors';
import { publicSettings } from '../../settings';
import type { AppDeps } from '../../app';
import { prefersHtml } from '../page';
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
    const update = await readJson(ctx.req, 64 * 1024);
    const config = await deps.settings.update(update);
    deps.log.info(`settings updated: ${JSON.stringify(update)}`);
    ctx.body = { status: 'success', message: 'Configuration updated', config: publicSettings(config) };
  });

}

/**
 * Reads a small JSON body.
 * @throws AppError invalid_settings for malformed JSON, payload_too_large past `maxBytes`.
 */
async function readJson(req: NodeJS.ReadableStream, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBytes) throw new AppError('payload_too_large', `A settings update is at most ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('invalid_settings', 'The body is not valid JSON; send a JSON object such as {"compression_quality": 9}');
  }
}
