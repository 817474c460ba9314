import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../../app-deps';
import { compareFormRequired, imageNotFound, invalidParam } from '../../errors';
import { featuresToJson, parseFeatureSets } from '../../similarity/features-json';
import { hammingDistance, isSignature, type ImageSignature } from '../../similarity/signature';
import type { StoredImage } from '../../storage/image-store';
import { readJson, type JsonBodyOptions } from '../read-json';
import { withQueryImages } from '../query-images';

/** Largest JSON body of /compare-features: two sets of 5000 keypoints fit. */
const MAX_FEATURES_JSON_BYTES = 4 * 1024 * 1024;

/** The JSON bodies these routes take: two stored ids, or two feature sets. */
const ID_PAIR_BODY: JsonBodyOptions = { maxBytes: 4096, code: 'invalid_parameter', hint: '{"id1": "<image id>", "id2": "<image id>"}' };
const FEATURES_BODY: JsonBodyOptions = {
  maxBytes: MAX_FEATURES_JSON_BYTES, code: 'invalid_parameter', hint: '{"features1": {...}, "features2": {...}}',
};

/**
 * Local-feature comparison (ORB + RANSAC in the OpenCV worker): POST /compare, and the
 * lost-and-found matcher's /extract-features, /compare-features and /compare-images.
 */
export function compareRoutes(router: Router, deps: AppDeps): void {
  const matcher = deps.features;

  router.post('/compare', async (ctx) => {
    if (ctx.is('multipart')) {
      ctx.body = await withQueryImages(ctx, deps, ['image1', 'image2'], 2, async ([a, b]) => ({
        ...(await matcher.compare(a.png, b.png)),
        phash_distance: hammingDistance((await deps.similarity.signatureOf(a.png)).phash, (await deps.similarity.signatureOf(b.png)).phash),
      }));
      return;
    }
    const body = await readJson(ctx, ID_PAIR_BODY) as { id1?: unknown; id2?: unknown } | null;
    // Images just stored are hashed after their upload was answered: wait for their signatures.
    await deps.similarity.settled();
    const [a, b] = [storedImage(deps, body?.id1, 'id1'), storedImage(deps, body?.id2, 'id2')];
    ctx.body = {
      ...(await matcher.compare(deps.store.pngPath(a.id), deps.store.pngPath(b.id))),
      phash_distance: phashDistance(a.signature, b.signature),
    };
  });

  router.post('/extract-features', async (ctx) => {
    const features = await withQueryImages(ctx, deps, ['image'], 1, ([image]) => matcher.extract(image.png));
    ctx.body = { success: true, features: featuresToJson(features) };
  });

  router.post('/compare-features', async (ctx) => {
    const [a, b] = parseFeatureSets(await readJson(ctx, FEATURES_BODY), ['features1', 'features2']);
    ctx.body = { success: true, comparison: await matcher.match(a, b) };
  });

  router.post('/compare-images', async (ctx) => {
    requireMultipart(ctx);
    const comparison = await withQueryImages(ctx, deps, ['image1', 'image2'], 2, ([a, b]) => matcher.compare(a.png, b.png));
    ctx.body = { success: true, comparison };
  });
}

function requireMultipart(ctx: Context): void {
  if (!ctx.is('multipart')) throw compareFormRequired();
}

function storedImage(deps: AppDeps, id: unknown, name: string): StoredImage {
  if (typeof id !== 'string') throw invalidParam(name, 'an image id', id);
  const image = deps.store.get(id);
  if (!image) throw imageNotFound(id);
  return image;
}

function phashDistance(a: ImageSignature | undefined, b: ImageSignature | undefined): number | null {
  return isSignature(a) && isSignature(b) ? hammingDistance(a.phash, b.phash) : null;
}
