import Router from '@koa/router';
import type { AppDeps } from '../../app';
import { AppError, invalidParam } from '../../errors';
import type { SimilarImage } from '../../similarity/similarity';
import { isSignature } from '../../similarity/signature';
import { parseSource } from '../params';
import { withQueryImages } from '../query-images';
import { present } from './images';

type Raw = string | string[] | undefined;

/** An integer query parameter between min and max. */
export function parseIntParam(name: string, value: Raw, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) throw invalidParam(name, `integer between ${min} and ${max}`, value);
  return number;
}

function presentResult(found: SimilarImage): { image: ReturnType<typeof present>; distance: number; similarity: number } {
  return { image: present(found.image), distance: found.distance, similarity: found.similarity };
}

/** Similar stored images by perceptual hash, and search by an uploaded image that is never stored. */
export function similarityRoutes(router: Router, deps: AppDeps): void {
  router.get('/images/:id/similar', async (ctx) => {
    const limit = parseIntParam('limit', ctx.query.limit, 10, 1, 100);
    const maxDistance = parseIntParam('max_distance', ctx.query.max_distance, 64, 0, 64);
    const image = deps.store.get(ctx.params.id);
    if (!image) throw new AppError('not_found', `No image with id ${JSON.stringify(ctx.params.id.slice(0, 64))}`);
    if (!isSignature(image.signature)) {
      throw new AppError('busy', 'This image has not been hashed yet; older images are hashed in the background after a start',
        { headers: { 'Retry-After': '5' } });
    }
    const results = deps.similarity.search(image.signature, { limit, maxDistance, exclude: image.id });
    ctx.body = { query: image.id, results: results.map(presentResult) };
  });

  router.post('/search', async (ctx) => {
    const limit = parseIntParam('top_k', ctx.query.top_k, 5, 1, 100);
    const maxDistance = parseIntParam('max_distance', ctx.query.max_distance, 64, 0, 64);
    const source = parseSource(ctx.query.source);
    const signature = await withQueryImages(ctx, deps, ['image', 'file'], 1, async ([query]) => query.processed.signature);
    const results = deps.similarity.search(signature, { limit, maxDistance, source });
    ctx.body = { query: null, results: results.map(presentResult) };
  });
}
