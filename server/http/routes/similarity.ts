import Router from '@koa/router';
import type { AppDeps } from '../../app-deps';
import { imageNotFound, invalidParam, notHashedYet } from '../../errors';
import type { SimilarImage } from '../../similarity/similarity';
import type { ContentMatch } from '../../labels/labels';
import { isSignature } from '../../similarity/signature';
import { prefersHtml, renderPage } from '../page';
import { parseSource } from '../parse-params';
import { QUERY_IMAGE_REFUSALS, withQueryImages } from '../query-images';
import { present } from '../present';
import { BINARY, formContent, jsonOrPageResponse, jsonResponse, route, type ParameterDoc } from '../documented-route';
import { SOURCE_PARAM } from '../schemas/params';

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

function parseBoolean(name: string, value: Raw): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidParam(name, 'true or false', value);
}

/** How many of the nearest hashes ?verify=true compares by local features (each takes a few hundred ms). */
const VERIFIED_CANDIDATES = 10;

/**
 * Re-ranks the nearest candidates by local features: images showing the same object first, by
 * inliers, then the rest by hash distance. Each verified result carries its comparison.
 */
async function verifyResults(deps: AppDeps, queryId: string, results: SimilarImage[]) {
  const verified = [];
  for (const found of results.slice(0, VERIFIED_CANDIDATES)) {
    const comparison = await deps.features.compare(deps.store.pngPath(queryId), deps.store.pngPath(found.image.id));
    verified.push({ ...presentResult(found), verified: comparison });
  }
  verified.sort((a, b) => Number(b.verified.same_object) - Number(a.verified.same_object)
    || (a.verified.same_object ? b.verified.inliers - a.verified.inliers : a.distance - b.distance));
  return [...verified, ...results.slice(VERIFIED_CANDIDATES).map(presentResult)];
}

const integer = { type: 'integer' };
const queryParam = (name: string, schema: ParameterDoc['schema'], description: string): ParameterDoc => ({ name, in: 'query', schema, description });
const MAX_DISTANCE_PARAM = queryParam('max_distance', { ...integer, minimum: 0, maximum: 64, default: 64 }, 'Only images this many hash bits away or closer');
const BY_PARAM = queryParam('by', { type: 'string', enum: ['hash', 'content'], default: 'hash' },
  'hash: the perceptual hash (near-duplicates); content: the MobileNetV2 embedding, when labels are on (docs/similarity.md)');

/** `?by=`: hash (the default) or content. */
function parseBy(value: Raw): 'hash' | 'content' {
  if (value === undefined || value === '' || value === 'hash') return 'hash';
  if (value === 'content') return 'content';
  throw invalidParam('by', 'hash or content', value);
}

/** The longest ?text= taken: CLIP reads at most 75 tokens of it anyway. */
const MAX_TEXT_LENGTH = 1000;

/** `?text=`: one non-blank string of at most MAX_TEXT_LENGTH characters. */
function parseText(value: Raw): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT_LENGTH) {
    throw invalidParam('text', `text of 1 to ${MAX_TEXT_LENGTH} characters`, Array.isArray(value) ? 'several values' : value);
  }
  return value;
}

function presentContentMatch(found: ContentMatch): { image: ReturnType<typeof present>; similarity: number } {
  return { image: present(found.image), similarity: found.similarity };
}

/** Similar stored images by perceptual hash, and search by an uploaded image that is never stored. */
export function similarityRoutes(router: Router, deps: AppDeps): void {
  route(router, {
    method: 'get', path: '/images/:id/similar',
    summary: 'Stored images with the nearest perceptual hash: JSON, or the similar-images page for Accept: text/html',
    params: [
      queryParam('limit', { ...integer, minimum: 1, maximum: 100, default: 10 }, 'Most results'),
      MAX_DISTANCE_PARAM,
      queryParam('verify', { type: 'boolean', default: false }, 'Re-rank the 10 nearest by local features (ORB); each then carries `verified`'),
      BY_PARAM,
    ],
    responses: { 200: jsonOrPageResponse('Nearest first', 'SimilarAnswer') },
    refusals: {
      invalid_parameter: 'a bad limit, max_distance, verify or by', not_found: 'no such image; by=content: labels off, or an image stored while they were',
      busy: 'not hashed yet; by=content: not labelled yet',
    },
  }, async (ctx) => {
    const limit = parseIntParam('limit', ctx.query.limit, 10, 1, 100);
    const maxDistance = parseIntParam('max_distance', ctx.query.max_distance, 64, 0, 64);
    if (!deps.store.get(ctx.params.id)) throw imageNotFound(ctx.params.id);
    if (parseBy(ctx.query.by) === 'content') {
      // JSON only: the similar-images page shows hash distances.
      ctx.body = { query: ctx.params.id, by: 'content', results: (await deps.labels.similarTo(deps.store.get(ctx.params.id)!, limit)).map(presentContentMatch) };
      return;
    }
    // A new image is hashed after its upload was answered: have it hashed, and wait for it.
    await deps.similarity.settled();
    const image = deps.store.get(ctx.params.id);
    if (!image) throw imageNotFound(ctx.params.id);
    if (!isSignature(image.signature)) {
      throw notHashedYet();
    }
    const results = await deps.similarity.search(image.signature, { limit, maxDistance, exclude: image.id });
    const verify = parseBoolean('verify', ctx.query.verify);
    const body = { query: image.id, results: verify ? await verifyResults(deps, image.id, results) : results.map(presentResult) };
    ctx.vary('Accept');
    if (prefersHtml(ctx)) await renderPage(ctx, 'similar', { title: 'Similar images', query: present(image), results: body.results });
    else ctx.body = body;
  });

  // The search page, or with ?text= a search by text; the search by an image is the POST below.
  route(router, {
    method: 'get', path: '/search',
    summary: 'The search page (drop an image, see the matches); with ?text=, stored images ranked by a CLIP text embedding',
    params: [
      queryParam('text', { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH }, 'What to look for, such as "a red car": ranks stored images by CLIP, where clip_model_dir is set (docs/labels.md#clip)'),
      queryParam('top_k', { ...integer, minimum: 1, maximum: 100, default: 5 }, 'Most results, with text'),
      SOURCE_PARAM,
    ],
    responses: { 200: jsonOrPageResponse('The page; with text, JSON, nearest first (query is the text, by is "text")', 'SimilarAnswer') },
    refusals: { invalid_parameter: 'an empty or too long text, a bad top_k or source', not_found: 'text while no CLIP model is set (clip_model_dir) or labels are off' },
  }, async (ctx) => {
    if (ctx.query.text === undefined) {
      await renderPage(ctx, 'search', { title: 'Search', sources: deps.store.sources(), textSearch: deps.labels.textSearchEnabled() });
      return;
    }
    const text = parseText(ctx.query.text);
    const limit = parseIntParam('top_k', ctx.query.top_k, 5, 1, 100);
    const source = parseSource(ctx.query.source);
    const matches = await deps.labels.searchByText(text, limit, source);
    ctx.body = { query: text, by: 'text', results: matches.map(presentContentMatch) };
  });

  route(router, {
    method: 'post', path: '/search', summary: 'Stored images nearest to an uploaded image, which is never stored',
    params: [queryParam('top_k', { ...integer, minimum: 1, maximum: 100, default: 5 }, 'Most results'), MAX_DISTANCE_PARAM, SOURCE_PARAM, BY_PARAM],
    body: { required: true, content: { 'image/*': { schema: BINARY }, ...formContent('image', 'file') } },
    responses: { 200: jsonResponse('Nearest first; query is null', 'SimilarAnswer') },
    refusals: {
      ...QUERY_IMAGE_REFUSALS, invalid_parameter: 'a bad parameter, no image, an empty body or a malformed form',
      not_found: 'by=content while labels are off',
    },
  }, async (ctx) => {
    const limit = parseIntParam('top_k', ctx.query.top_k, 5, 1, 100);
    const maxDistance = parseIntParam('max_distance', ctx.query.max_distance, 64, 0, 64);
    const source = parseSource(ctx.query.source);
    if (parseBy(ctx.query.by) === 'content') {
      // Refused before the body is read when labels are off.
      deps.labels.assertContentSearch();
      const matches = await withQueryImages(ctx, deps, ['image', 'file'], 1,
        ([query]) => deps.labels.searchByFile(query.png, query.processed.width * query.processed.height, limit, source));
      ctx.body = { query: null, by: 'content', results: matches.map(presentContentMatch) };
      return;
    }
    const signature = await withQueryImages(ctx, deps, ['image', 'file'], 1, ([query]) => deps.similarity.signatureOf(query.png));
    const results = await deps.similarity.search(signature, { limit, maxDistance, source });
    ctx.body = { query: null, results: results.map(presentResult) };
  });
}
