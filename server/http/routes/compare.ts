import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../../app-deps';
import { compareFormRequired, imageNotFound, invalidParam } from '../../errors';
import { featuresToJson, parseFeatureSets } from '../../similarity/features-json';
import { hammingDistance, isSignature, type ImageSignature } from '../../similarity/signature';
import type { StoredImage } from '../../storage/image-store';
import { readJson, type JsonBodyOptions } from '../read-json';
import { QUERY_IMAGE_REFUSALS, withQueryImages } from '../query-images';
import { formContent, jsonBody, jsonResponse, route } from '../documented-route';

/** Largest JSON body of /compare-features: two sets of 5000 keypoints fit. */
const MAX_FEATURES_JSON_BYTES = 4 * 1024 * 1024;

/** The JSON bodies these routes take: two stored ids, or two feature sets. */
const ID_PAIR_BODY: JsonBodyOptions = { maxBytes: 4096, code: 'invalid_parameter', hint: '{"id1": "<image id>", "id2": "<image id>"}' };
/** One feature set as /extract-features answers it under `features`. */
const FEATURE_SET = { $ref: '#/components/schemas/FeatureSet' };
const FEATURES_BODY: JsonBodyOptions = {
  maxBytes: MAX_FEATURES_JSON_BYTES, code: 'invalid_parameter', hint: '{"features1": {...}, "features2": {...}}',
};

/**
 * Local-feature comparison (ORB + RANSAC in the OpenCV worker): POST /compare, and the
 * lost-and-found matcher's /extract-features, /compare-features and /compare-images.
 */
export function compareRoutes(router: Router, deps: AppDeps): void {
  const matcher = deps.features;

  route(router, {
    method: 'post', path: '/compare',
    summary: 'Are two images the same object? ORB keypoints, ratio test, RANSAC homography',
    body: {
      required: true,
      content: { ...formContent('image1', 'image2'), ...jsonBody({ type: 'object', required: ['id1', 'id2'], properties: { id1: { type: 'string' }, id2: { type: 'string' } } }).content },
    },
    responses: { 200: jsonResponse('The comparison', 'CompareAnswer') },
    refusals: {
      ...QUERY_IMAGE_REFUSALS,
      invalid_parameter: 'a missing id or image, or a body that is not JSON',
      not_found: 'no such image',
      unsupported_media_type: 'neither multipart nor JSON, or not an image',
      busy: 'the processing queue is full, or comparisons already wait; see Retry-After',
    },
  }, async (ctx) => {
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

  route(router, {
    method: 'post', path: '/extract-features', summary: 'ORB features of an image (the lost-and-found matcher\'s route)',
    body: { required: true, content: formContent('image') },
    responses: { 200: jsonResponse('The features', 'ExtractedFeatures') },
    refusals: QUERY_IMAGE_REFUSALS,
  }, async (ctx) => {
    const features = await withQueryImages(ctx, deps, ['image'], 1, ([image]) => matcher.extract(image.png));
    ctx.body = { success: true, features: featuresToJson(features) };
  });

  route(router, {
    method: 'post', path: '/compare-features', summary: 'Compare two feature sets from /extract-features',
    body: jsonBody({
      type: 'object',
      properties: { features1: FEATURE_SET, features2: FEATURE_SET },
      required: ['features1', 'features2'],
    }),
    responses: { 200: jsonResponse('The comparison', 'MatcherComparison') },
    refusals: { invalid_parameter: 'malformed features: error.fields names each bad field', unsupported_media_type: 'not JSON' },
  }, async (ctx) => {
    const [a, b] = parseFeatureSets(await readJson(ctx, FEATURES_BODY), ['features1', 'features2']);
    ctx.body = { success: true, comparison: await matcher.match(a, b) };
  });

  route(router, {
    method: 'post', path: '/compare-images', summary: 'Compare two images (the lost-and-found matcher\'s route)',
    body: { required: true, content: formContent('image1', 'image2') },
    responses: { 200: jsonResponse('The comparison', 'MatcherComparison') },
    refusals: { ...QUERY_IMAGE_REFUSALS, unsupported_media_type: 'not multipart, or not an image' },
  }, async (ctx) => {
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
