import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError, invalidParam } from '../../errors';
import type { StoredImage } from '../../storage/image-store';
import type { AppDeps } from '../../app';
import { parseCapturedAt, parseCursor, parseLimit, parseSource } from '../params';
import { sendFile } from '../send-file';
import { receiveUpload } from '../upload-body';

/** An image record as the API shows it: the stored facts plus where to fetch the PNG. */
export type ImageRecord = StoredImage & { url: string };

export function present(image: StoredImage): ImageRecord {
  const { id, source, ...rest } = image;
  return { id, source, url: `/images/${id}`, ...rest };
}

/** Ingest, listing, fetching and deleting images. */
export function imageRoutes(router: Router, deps: AppDeps): void {

  router.post('/images', async (ctx) => {
    const images = await receiveImages(ctx, deps, ['image']);
    ctx.status = 201;
    ctx.set('Location', `/images/${images[0].id}`);
    ctx.body = { images: images.map(present) };
  });

  // The original Python receiver's endpoint, so that existing publishers keep working unchanged.
  router.post('/upload', async (ctx) => {
    const images = await receiveImages(ctx, deps, ['file', 'image']);
    ctx.body = { status: 'success', images: images.map(present) };
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
    if (ctx.query.confirm !== 'all') throw invalidParam('confirm', '"all" to delete every image', ctx.query.confirm);
    ctx.body = { deleted: await deps.store.deleteAll() };
  });

  router.get('/images/latest', (ctx) => {
    const source = parseSource(ctx.query.source);
    const image = deps.store.latest(source);
    if (!image) throw new AppError('not_found', source ? `No image from source ${source} yet` : 'No image stored yet');
    sendPng(ctx, deps, image, 'no-cache');
  });

  router.get('/images/:id', (ctx) => {
    sendPng(ctx, deps, findImage(deps, ctx.params.id), 'public, max-age=31536000, immutable');
  });

  router.get('/images/:id/meta', (ctx) => {
    ctx.body = present(findImage(deps, ctx.params.id));
  });

  router.delete('/images/:id', async (ctx) => {
    if (!(await deps.store.delete(findImage(deps, ctx.params.id).id))) throw notFound(ctx.params.id);
    ctx.status = 204;
  });

}

/**
 * The stored image `id`.
 * @throws AppError not_found when there is none.
 */
export function findImage(deps: AppDeps, id: string): StoredImage {
  const image = deps.store.get(id);
  if (!image) throw notFound(id);
  return image;
}

function notFound(id: string): AppError {
  return new AppError('not_found', `No image with id ${JSON.stringify(id.slice(0, 64))}`);
}

function sendPng(ctx: Context, deps: AppDeps, image: StoredImage, cacheControl: string): void {
  ctx.set('X-Image-Id', image.id);
  // An id names one immutable PNG, so it is a strong ETag.
  sendFile(ctx, { path: deps.store.pngPath(image.id), bytes: image.bytes, type: 'image/png', etag: `"${image.id}"`, cacheControl });
}

/**
 * Receives one upload request and processes every image in it. All or nothing: when one image
 * is refused, those of the same request already stored are removed again, so a refused request
 * leaves nothing behind.
 */
async function receiveImages(ctx: Context, deps: AppDeps, fileFields: readonly string[]): Promise<StoredImage[]> {
  const receivedAt = new Date().toISOString();
  let source = 'default';
  const stored: StoredImage[] = [];
  let dir: string | undefined;
  try {
    source = parseSource(ctx.query.source, source);
    ctx.state.source = source;
    const queryCapturedAt = parseCapturedAt(ctx.query.captured_at);
    // Refuse before reading a byte of the body when the queue is already full.
    if (deps.ingest.queue.isFull) throw deps.ingest.queue.busyError();
    await deps.retention.ensureSpace();
    const settings = deps.settings.get();
    dir = await deps.store.createTempDir();
    const upload = await receiveUpload(ctx, { maxBytes: settings.max_upload_bytes, fileFields, dir });
    source = parseSource(upload.fields.source, source);
    ctx.state.source = source;
    const info = {
      source,
      capturedAt: parseCapturedAt(upload.fields.captured_at) ?? queryCapturedAt,
      receivedAt,
    };
    for (const file of upload.files) stored.push(await deps.ingest.ingest(file, dir, info));
    await deps.retention.afterStore(stored.map((image) => image.id));
    return stored;
  } catch (err) {
    for (const image of stored) await deps.store.delete(image.id);
    deps.ingest.reportRejection(err, source);
    throw err;
  } finally {
    if (dir) await deps.store.removeTempDir(dir);
  }
}
