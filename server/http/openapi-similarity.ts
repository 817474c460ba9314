import { errorResponse, jsonResponse, parameter } from './openapi-parts';
import { ID_PARAM, SOURCE_PARAM } from './schemas/params';

/** The OpenAPI paths of similar images, search, comparison and local features (issue 11). */

const integer = { type: 'integer' };
const query = (name: string, schema: object, description: string) => ({ name, in: 'query', required: false, schema, description });
const binary = { type: 'string', format: 'binary' };
const html = { 'text/html': { schema: { type: 'string' } } };
const imageBody = {
  required: true,
  content: {
    'image/*': { schema: binary },
    'multipart/form-data': { schema: { type: 'object', properties: { image: binary, file: binary } } },
  },
};
const twoImages = { 'multipart/form-data': { schema: { type: 'object', properties: { image1: binary, image2: binary } } } };
const maxDistance = query('max_distance', { ...integer, minimum: 0, maximum: 64, default: 64 }, 'Only images this many hash bits away or closer');
const notAnImage = {
  413: errorResponse('payload_too_large or too_many_pixels'),
  415: errorResponse('unsupported_media_type: not a supported image'),
  422: errorResponse('invalid_image: corrupt or truncated'),
};

/** Paths of issue 11, spread into OPENAPI_DOCUMENT.paths. */
export const SIMILARITY_PATHS = {
  '/images/{id}/similar': {
    get: {
      summary: 'Stored images with the nearest perceptual hash: JSON, or the similar-images page for Accept: text/html',
      parameters: [
        parameter(ID_PARAM),
        query('limit', { ...integer, minimum: 1, maximum: 100, default: 10 }, 'Most results'),
        maxDistance,
        query('verify', { type: 'boolean', default: false }, 'Re-rank the 10 nearest by local features (ORB); each then carries `verified`'),
      ],
      responses: {
        200: { description: 'Nearest first', content: { ...jsonResponse('', 'SimilarAnswer').content, ...html } },
        400: errorResponse('Bad parameter'),
        404: errorResponse('No such image'),
      },
    },
  },
  '/search': {
    get: { summary: 'The search page: drop an image, see the matches', responses: { 200: { description: 'The page', content: html } } },
    post: {
      summary: 'Stored images nearest to an uploaded image, which is never stored',
      parameters: [query('top_k', { ...integer, minimum: 1, maximum: 100, default: 5 }, 'Most results'), maxDistance, parameter(SOURCE_PARAM)],
      requestBody: imageBody,
      responses: { 200: jsonResponse('Nearest first; query is null', 'SimilarAnswer'), 400: errorResponse('Bad parameter or empty body'), ...notAnImage },
    },
  },
  '/compare': {
    post: {
      summary: 'Are two images the same object? ORB keypoints, ratio test, RANSAC homography; 503 busy when comparisons queue up',
      requestBody: {
        required: true,
        content: { ...twoImages, 'application/json': { schema: { type: 'object', required: ['id1', 'id2'], properties: { id1: { type: 'string' }, id2: { type: 'string' } } } } },
      },
      responses: {
        200: jsonResponse('The comparison', 'CompareAnswer'),
        400: errorResponse('Missing id or image'),
        404: errorResponse('No such image'),
        415: errorResponse('Neither multipart nor JSON, or not an image'),
        422: errorResponse('invalid_image'),
      },
    },
  },
  '/extract-features': {
    post: {
      summary: 'ORB features of an image (the lost-and-found matcher\'s route)',
      requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { image: binary } } } } },
      responses: { 200: jsonResponse('The features', 'ExtractedFeatures'), 400: errorResponse('No image in the form'), 415: errorResponse('Not an image') },
    },
  },
  '/compare-features': {
    post: {
      summary: 'Compare two feature sets from /extract-features',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['features1', 'features2'] } } } },
      responses: {
        200: jsonResponse('The comparison', 'MatcherComparison'),
        400: errorResponse('Malformed features: error.fields names each bad field'),
        415: errorResponse('Not JSON'),
      },
    },
  },
  '/compare-images': {
    post: {
      summary: 'Compare two images (the lost-and-found matcher\'s route)',
      requestBody: { required: true, content: twoImages },
      responses: {
        200: jsonResponse('The comparison', 'MatcherComparison'),
        400: errorResponse('Not two images'),
        415: errorResponse('Not multipart, or not an image'),
        422: errorResponse('invalid_image'),
      },
    },
  },
};
