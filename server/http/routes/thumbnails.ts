import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { fileResponse, NOT_MODIFIED, route } from '../documented-route';
import { sendFile } from '../send-file';

/** Dashboard thumbnails: about 320 px WebP, made once per image and cached on disk. */
export function thumbnailRoutes(router: Router, deps: AppDeps): void {
  route(router, {
    method: 'get', path: '/images/:id/thumbnail',
    summary: 'A WebP thumbnail (at most 320 px a side), made on first request and kept until the image is deleted',
    responses: { 200: fileResponse('The thumbnail', 'image/webp'), 304: NOT_MODIFIED },
    refusals: { not_found: 'no such image' },
  }, async (ctx) => {
    const { path, bytes } = await deps.thumbnails.get(ctx.params.id);
    // A thumbnail, like its image, never changes under its id.
    sendFile(ctx, { path, bytes, type: 'image/webp', etag: `"${ctx.params.id}-thumb"`, cacheControl: 'public, max-age=31536000, immutable' });
  });

}
