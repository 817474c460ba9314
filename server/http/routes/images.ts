import Router from '@koa/router';
import type { Context } from 'koa';
import { imageNotFound, noImageYet } from '../../errors';
import type { StoredImage } from '../../storage/image-store';
import type { UploadResult } from '../../upload/upload-flow';
import type { AppDeps } from '../../app-deps';
import { parseCapturedAt, parseCursor, parseDisplayOptions, parseLimit, parseSource, sourceFromFrameId } from '../parse-params';
import { present } from '../present';
import { BEFORE_PARAM, CONFIRM_ALL_PARAM, DAY_PARAM, dayBounds, LIST_LIMIT_PARAM, readParam, SOURCE_PARAM } from '../schemas/params';
import { UPLOAD_BODY, UPLOAD_PARAMS } from '../schemas/upload';
import { sendFile } from '../send-file';
import { receiveUpload } from '../upload-body';
import { unpackUpload } from '../../messages/unpack-upload';
import { parseUploadKind } from '../upload-kind';
import { fileResponse, jsonOrPageResponse, jsonResponse, NOT_MODIFIED, route, type Refusals } from '../documented-route';
import { prefersHtml } from '../page';
import { renderImagePage } from '../page-renderers';
import { BOXES_PARAM, LABEL_PARAM, MIN_SCORE_PARAM, parseLabelFilter } from '../schemas/label-params';
import { drawBoxes } from '../../labels/draw-boxes';

/** How an upload may be refused, on either upload path. */
const UPLOAD_REFUSALS: Refusals = {
  invalid_parameter: 'a bad parameter, an empty body, a malformed form or message',
  payload_too_large: 'more bytes than max_upload_bytes, or a form with too many parts',
  too_many_pixels: 'more pixels than max_input_pixels, or more than the memory budget allows',
  unsupported_media_type: 'the bytes are not a supported image',
  invalid_image: 'a corrupt or truncated image',
  busy: 'the processing queue is full; see Retry-After',
  insufficient_storage: 'the disk is full, or below min_free_disk_mb with nothing left to remove',
};

const NO_SUCH_IMAGE: Refusals = { not_found: 'no such image' };
const PNG = fileResponse('The PNG', 'image/png');

/** Ingest, listing, fetching and deleting images. */
export function imageRoutes(router: Router, deps: AppDeps): void {

  route(router, {
    method: 'post', path: '/images', summary: 'Upload one image (raw body) or several (multipart field "image")',
    params: UPLOAD_PARAMS, body: UPLOAD_BODY,
    responses: {
      200: jsonResponse('Every image repeats a stored one (duplicate_max_distance): none stored, each named in duplicates', 'UploadCreated'),
      201: jsonResponse('Stored; Location names the first image', 'UploadCreated'),
    },
    refusals: UPLOAD_REFUSALS,
  }, async (ctx) => {
    const { images, duplicates } = await receiveImages(ctx, deps, ['image']);
    // Every file a duplicate: nothing new was created.
    ctx.status = images.length > 0 ? 201 : 200;
    if (images.length > 0) ctx.set('Location', `/images/${images[0].id}`);
    ctx.body = { images: images.map(present), ...(duplicates.length > 0 ? { duplicates } : {}) };
  });

  // The original Python receiver's endpoint, so that existing publishers keep working unchanged.
  route(router, {
    method: 'post', path: '/upload', summary: 'The original receiver\'s upload: multipart field "file" (or "image")',
    params: UPLOAD_PARAMS, body: UPLOAD_BODY,
    responses: { 200: jsonResponse('Stored', 'UploadSuccess') },
    refusals: UPLOAD_REFUSALS,
  }, async (ctx) => {
    const { images, duplicates } = await receiveImages(ctx, deps, ['file', 'image']);
    ctx.body = { status: 'success', images: images.map(present), ...(duplicates.length > 0 ? { duplicates } : {}) };
  });

  route(router, {
    method: 'get', path: '/images', summary: 'List images, newest first',
    params: [LIST_LIMIT_PARAM, BEFORE_PARAM, SOURCE_PARAM, DAY_PARAM, LABEL_PARAM, MIN_SCORE_PARAM],
    responses: { 200: jsonResponse('A page', 'ImagePage') },
    refusals: { invalid_parameter: 'a bad limit, cursor, source, day, label or min_score' },
  }, (ctx) => {
    const page = deps.store.list({
      limit: parseLimit(ctx.query.limit, 50, 1000),
      ...dayBounds(readParam(DAY_PARAM, ctx.query.day), parseCursor(ctx.query.before)),
      source: parseSource(ctx.query.source),
      accept: parseLabelFilter(ctx.query.label, ctx.query.min_score),
    });
    ctx.body = { images: page.images.map(present), next: page.next };
  });

  route(router, {
    method: 'delete', path: '/images', summary: 'Delete every image (needs confirm=all)',
    params: [CONFIRM_ALL_PARAM],
    responses: { 200: jsonResponse('Deleted', 'DeletedAll') },
    refusals: { invalid_parameter: 'confirm=all missing' },
  }, async (ctx) => {
    readParam(CONFIRM_ALL_PARAM, ctx.query.confirm);
    ctx.body = { deleted: await deps.removal.removeAll() };
  });

  route(router, {
    method: 'get', path: '/images/latest', summary: 'The newest PNG', params: [SOURCE_PARAM],
    responses: { 200: PNG },
    refusals: { invalid_parameter: 'a bad source', not_found: 'no image yet' },
  }, (ctx) => {
    const source = parseSource(ctx.query.source);
    const image = deps.store.latest(source);
    if (!image) throw noImageYet(source);
    sendPng(ctx, deps, image, 'no-cache');
  });

  route(router, {
    method: 'get', path: '/images/:id', summary: 'One PNG, with an ETag; with boxes=1, its labels drawn on it',
    params: [BOXES_PARAM],
    responses: { 200: PNG, 304: NOT_MODIFIED }, refusals: { ...NO_SUCH_IMAGE, invalid_parameter: 'a bad boxes' },
  }, async (ctx) => {
    const image = findImage(deps, ctx.params.id);
    if (readParam(BOXES_PARAM, ctx.query.boxes)) {
      // Drawn on each request, never stored: labels change when the consumer runs again.
      ctx.set('X-Image-Id', image.id);
      ctx.set('Cache-Control', 'no-cache');
      ctx.type = 'image/png';
      // Decoded in the daemon: weighed by the processing queue as an upload is (RGBA in and out).
      const costMb = (2 * image.width * image.height * 4) / (1024 * 1024);
      ctx.body = await deps.flow.queue.run(() => drawBoxes(deps.store.pngPath(image.id), image.labels ?? [], image.width, image.height), costMb);
      return;
    }
    sendPng(ctx, deps, image, 'public, max-age=31536000, immutable');
  });

  route(router, {
    method: 'get', path: '/images/:id/meta', summary: 'One image record: JSON, or the image\'s page for Accept: text/html',
    responses: { 200: jsonOrPageResponse('The record', 'ImageRecord') }, refusals: NO_SUCH_IMAGE,
  }, async (ctx) => {
    const image = findImage(deps, ctx.params.id);
    ctx.vary('Accept');
    if (prefersHtml(ctx)) await renderImagePage(ctx, deps, image);
    else ctx.body = present(image);
  });

  route(router, {
    method: 'delete', path: '/images/:id', summary: 'Delete one image',
    responses: { 204: { description: 'Deleted' } }, refusals: NO_SUCH_IMAGE,
  }, async (ctx) => {
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
async function receiveImages(ctx: Context, deps: AppDeps, fileFields: readonly string[]): Promise<UploadResult> {
  let kind: ReturnType<typeof parseUploadKind>;
  const clock = deps.flow.cost.start();
  const result = await deps.flow.ingest({
    clock,
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
      const upload = await receiveUpload(ctx, {
        maxBytes: deps.settings.get().max_upload_bytes, fileFields, dir, smallBodyInMemory: kind.kind === 'encoded',
      });
      const unpacked = upload.bytes ? { inputs: [{ bytes: upload.bytes }], capturedAt: null } : await unpackUpload(kind, upload.files, dir);
      const frameId = unpacked.frameId;
      return {
        inputs: unpacked.inputs,
        heads: upload.heads,
        source: parseSource(upload.fields.source),
        capturedAt: parseCapturedAt(upload.fields.captured_at) ?? undefined,
        options: { ...parseDisplayOptions(upload.fields) },
        message: { source: frameId ? () => sourceFromFrameId(frameId) : undefined, capturedAt: unpacked.capturedAt },
      };
    },
  });
  // The response phase ends once the answer is handed to the socket: Koa's presenting and writing included.
  ctx.res.once('finish', () => {
    clock.lap('response');
    clock.answered(result.images.length);
  });
  return result;
}
