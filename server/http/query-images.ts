import { join } from 'node:path';
import type { Context } from 'koa';
import type { AppDeps } from '../app-deps';
import { wrongImageCount } from '../errors';
import type { ProcessedImage } from '../pipeline/process-image';
import type { Refusals } from './documented-route';
import { receiveUpload } from './upload-body';

/** An uploaded query image, processed as an upload would be, living only as long as the request. */
export interface QueryImage {
  /** The upright PNG the pipeline made, in the request's temp folder. */
  png: string;
  processed: ProcessedImage;
}

/** How {@link withQueryImages} refuses, for the documentation of the routes that use it. */
export const QUERY_IMAGE_REFUSALS: Refusals = {
  invalid_parameter: 'not as many images as the route takes, an empty body or a malformed form',
  payload_too_large: 'more bytes than max_upload_bytes, or a form with too many parts',
  too_many_pixels: 'more pixels than max_input_pixels, or more than the memory budget allows',
  unsupported_media_type: 'not a supported image',
  invalid_image: 'a corrupt or truncated image',
  busy: 'the processing queue is full; see Retry-After',
};

/**
 * Receives the images of a query request (search, compare), runs each through the upload
 * pipeline into the request's temp folder, hands them to `use`, then removes the folder: a query
 * is never stored. Refusals are an upload's (413, 415, 422, 503 busy).
 * @throws AppError as an upload would, or invalid_parameter when the count of images is not `count`.
 */
export async function withQueryImages<T>(
  ctx: Context,
  deps: AppDeps,
  fields: readonly string[],
  count: number,
  use: (images: QueryImage[]) => Promise<T>,
): Promise<T> {
  const queue = deps.flow.queue;
  if (queue.isFull) throw queue.busyError();
  const settings = deps.settings.get();
  const dir = await deps.store.createTempDir();
  try {
    const upload = await receiveUpload(ctx, { maxBytes: settings.max_upload_bytes, fileFields: fields, dir });
    if (upload.files.length !== count) {
      throw wrongImageCount(count, fields, upload.files.length);
    }
    const images: QueryImage[] = [];
    for (const [i, file] of upload.files.entries()) {
      const png = join(dir, `query-${i}.png`);
      // Through the upload flow's queue, weighed as an upload is, so that queries and uploads
      // together keep within the memory budget.
      const processed = await deps.flow.process(file, png, (result) => result);
      images.push({ png, processed });
    }
    return await use(images);
  } finally {
    await deps.store.removeTempDir(dir);
  }
}
