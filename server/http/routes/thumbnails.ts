import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { sendFile } from '../send-file';

/** Dashboard thumbnails: about 320 px WebP, made once per image and cached on disk. */
export function thumbnailRoutes(router: Router, deps: AppDeps): void {
  router.get('/images/:id/thumbnail', async (ctx) => {
    const { path, bytes } = await deps.thumbnails.get(ctx.params.id);
    // A thumbnail, like its image, never changes under its id.
    sendFile(ctx, { path, bytes, type: 'image/webp', etag: `"${ctx.params.id}-thumb"`, cacheControl: 'public, max-age=31536000, immutable' });
  });

}
