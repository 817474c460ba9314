import Router from '@koa/router';
import type { Context } from 'koa';
import { imageNotFound, noImageYet } from '../../errors';
import type { StoredImage } from '../../storage/image-store';
import type { UploadResult } from '../../upload/upload-flow';
import type { AppDeps } from '../../app-deps';
import { parseCapturedAt, parseCursor, parseDisplayOptions, parseLimit, parseSource, sourceFromFrameId } from '../params';
import { present } from '../present';
import { CONFIRM_ALL_PARAM, readParam } from '../schemas/params';
import { sendFile } from '../send-file';
import { receiveUpload } from '../upload-body';
import { unpackUpload } from '../../messages/unpack-upload';
import { parseUploadKind } from '../upload-kind';

/** Ingest, listing, fetching and deleting images. */
export function imageRoutes(router: Router, deps: AppDeps): void {

  router.post('/images', async (ctx) => {
    const { images, duplicates } = await receiveImages(ctx, deps, ['image']);
    // Every file a duplicate: nothing new was created.
    ctx.status = images.length > 0 ? 201 : 200;
    if (images.length > 0) ctx.set('Location', `/images/${images[0].id}`);
    ctx.body = { images: images.map(present), ...(duplicates.length > 0 ? { duplicates } : {}) };
  });

  // The original Python receiver's endpoint, so that existing publishers keep working unchanged.
  router.post('/upload', async (ctx) => {
    const { images, duplicates } = await receiveImages(ctx, deps, ['file', 'image']);
    ctx.body = { status: 'success', images: images.map(present), ...(duplicates.length > 0 ? { duplicates } : {}) };
  });

  router.get('/images', (ctx) => {
    const page = deps.store.list({
      limit: parseLimit(ctx.query.limit, 50, 1000),
      before: parseCursor(ctx.query.before),
      source: parseSource(ctx.query.source),
    });
    ctx.body = { images: page.images.map(present), next: page.next };
  });

  router.delete('/images', async (ctx) => {
    readParam(CONFIRM_ALL_PARAM, ctx.query.confirm);
    ctx.body = { deleted: await deps.removal.removeAll() };
  });

  router.get('/images/latest', (ctx) => {
    const source = parseSource(ctx.query.source);
    const image = deps.store.latest(source);
    if (!image) throw noImageYet(source);
    sendPng(ctx, deps, image, 'no-cache');
  });

  router.get('/images/:id', (ctx) => {
    sendPng(ctx, deps, findImage(deps, ctx.params.id), 'public, max-age=31536000, immutable');
  });

  router.get('/images/:id/meta', (ctx) => {
    ctx.body = present(findImage(deps, ctx.params.id));
  });

  router.delete('/images/:id', async (ctx) => {
    if (!(await deps.removal.remove(findImage(deps, ctx.params.id).id))) throw imageNotFound(ctx.params.id);
    ctx.status = 204;
  });

}

/**
 * The stored image `id`.
 * @throws AppError not_found when there is none.
 */
export function findImage(deps: AppDeps, id: string): StoredImage {
  const image = deps.store.get(id);
  if (!image) throw imageNotFound(id);
  return image;
}

function sendPng(ctx: Context, deps: AppDeps, image: StoredImage, cacheControl: string): void {
  ctx.set('X-Image-Id', image.id);
  // An id names one immutable PNG, so it is a strong ETag.
  sendFile(ctx, { path: deps.store.pngPath(image.id), bytes: image.bytes, type: 'image/png', etag: `"${image.id}"`, cacheControl });
}

/**
 * Fills the upload flow with one request: what its query names (checked before the body is
 * read), and its body on disk. The flow owns everything else (UploadFlow.ingest).
 */
function receiveImages(ctx: Context, deps: AppDeps, fileFields: readonly string[]): Promise<UploadResult> {
  let kind: ReturnType<typeof parseUploadKind>;
  return deps.flow.ingest({
    names: () => {
      const names = {
        source: parseSource(ctx.query.source),
        capturedAt: parseCapturedAt(ctx.query.captured_at),
        options: { ...parseDisplayOptions(ctx.query) },
      };
      kind = parseUploadKind(ctx);
      return names;
    },
    named: (source) => {
      ctx.state.source = source;
    },
    receive: async (dir) => {
      const upload = await receiveUpload(ctx, { maxBytes: deps.settings.get().max_upload_bytes, fileFields, dir });
      const unpacked = await unpackUpload(kind, upload.files, dir);
      const frameId = unpacked.frameId;
      return {
        inputs: unpacked.inputs,
        source: parseSource(upload.fields.source),
        capturedAt: parseCapturedAt(upload.fields.captured_at) ?? undefined,
        options: { ...parseDisplayOptions(upload.fields) },
        message: { source: frameId ? () => sourceFromFrameId(frameId) : undefined, capturedAt: unpacked.capturedAt },
      };
    },
  });
}
