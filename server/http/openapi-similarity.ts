/** The OpenAPI paths of similar images, search, comparison and local features (issue 11). */

const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
const integer = { type: 'integer' };
const query = (name: string, schema: object, description?: string) => ({ name, in: 'query', required: false, schema, ...(description ? { description } : {}) });
const binary = { type: 'string', format: 'binary' };

const similarAnswer = {
  description: 'Nearest first',
  content: json({
    type: 'object',
    properties: {
      query: { type: ['string', 'null'], description: 'The query image id; null for POST /search' },
      results: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            image: { $ref: '#/components/schemas/ImageRecord' },
            distance: { ...integer, minimum: 0, maximum: 64, description: 'Differing bits of the 64-bit perceptual hash' },
            similarity: { type: 'number', minimum: 0, maximum: 1, description: '1 - distance / 64' },
          },
        },
      },
    },
  }),
};

const queryErrors = {
  400: error('Bad parameter or empty body'),
  413: error('payload_too_large or too_many_pixels'),
  415: error('unsupported_media_type'),
  422: error('invalid_image'),
  503: error('busy: the processing queue is full'),
};

const comparison = {
  type: 'object',
  properties: {
    similarity_score: { ...integer, minimum: 0, maximum: 100 },
    good_matches: { ...integer, description: 'ORB matches passing the ratio test' },
    inliers: { ...integer, description: 'Good matches consistent with one RANSAC homography' },
    match_ratio: { type: 'number', description: 'good_matches / keypoints of the poorer image' },
    confidence: { enum: ['high', 'medium', 'low'] },
    same_object: { type: 'boolean' },
  },
};
const features = {
  type: 'object',
  properties: {
    keypoints_count: integer,
    descriptors: { type: 'string', contentEncoding: 'base64', description: 'keypoints_count x 32 bytes of ORB descriptors' },
    descriptors_shape: { type: 'array', items: integer, minItems: 2, maxItems: 2 },
    keypoints: { type: 'array', items: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' }, size: { type: 'number' }, angle: { type: 'number' }, response: { type: 'number' }, octave: integer } } },
    image_shape: { type: 'array', items: integer, minItems: 2, maxItems: 2, description: '[height, width] of the reduced image' },
  },
};
const twoImages = { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { image1: binary, image2: binary } } } } };
const compareErrors = { ...queryErrors, 404: error('No such image'), 503: error('busy: the queue or the comparison wait queue is full') };
const matcherAnswer = (description: string, properties: object) => ({ description, content: json({ type: 'object', properties: { success: { const: true }, ...properties } }) });

/** Paths of issue 11, spread into OPENAPI_DOCUMENT.paths. */
export const SIMILARITY_PATHS = {
  '/images/{id}/similar': {
    get: {
      summary: 'Stored images with the nearest perceptual hash: JSON, or the similar-images page for Accept: text/html',
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        query('limit', { ...integer, minimum: 1, maximum: 100, default: 10 }),
        query('max_distance', { ...integer, minimum: 0, maximum: 64, default: 64 }),
        query('verify', { type: 'boolean', default: false }, 'Re-rank the 10 nearest by local features (ORB); each then carries `verified`'),
      ],
      responses: { 200: similarAnswer, 400: error('Bad parameter'), 404: error('No such image'), 503: error('busy: not hashed yet') },
    },
  },
  '/search': {
    get: { summary: 'The search page: drop an image, see the matches', responses: { 200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } } } },
    post: {
      summary: 'Stored images nearest to an uploaded image, which is never stored',
      parameters: [
        query('top_k', { ...integer, minimum: 1, maximum: 100, default: 5 }),
        query('max_distance', { ...integer, minimum: 0, maximum: 64, default: 64 }),
        query('source', { type: 'string' }, 'Only images of this source'),
      ],
      requestBody: {
        required: true,
        content: {
          'image/*': { schema: binary },
          'multipart/form-data': { schema: { type: 'object', properties: { image: binary, file: binary } } },
        },
      },
      responses: { 200: similarAnswer, ...queryErrors },
    },
  },
  '/compare': {
    post: {
      summary: 'Are two images the same object? ORB keypoints, ratio test, RANSAC homography',
      requestBody: {
        required: true,
        content: {
          ...twoImages.content,
          'application/json': { schema: { type: 'object', required: ['id1', 'id2'], properties: { id1: { type: 'string' }, id2: { type: 'string' } } } },
        },
      },
      responses: {
        200: { description: 'The comparison', content: json({ ...comparison, properties: { ...comparison.properties, phash_distance: { type: ['integer', 'null'] } } }) },
        ...compareErrors,
      },
    },
  },
  '/extract-features': {
    post: {
      summary: 'ORB features of an image (the lost-and-found matcher\'s route)',
      requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { image: binary } } } } },
      responses: { 200: matcherAnswer('The features', { features }), ...compareErrors },
    },
  },
  '/compare-features': {
    post: {
      summary: 'Compare two feature sets from /extract-features',
      requestBody: { required: true, content: json({ type: 'object', required: ['features1', 'features2'], properties: { features1: features, features2: features } }) },
      responses: { 200: matcherAnswer('The comparison', { comparison }), 400: error('Malformed features; error.fields names each'), 413: error('Body too large'), 415: error('Not JSON'), 503: error('busy') },
    },
  },
  '/compare-images': {
    post: {
      summary: 'Compare two images (the lost-and-found matcher\'s route)',
      requestBody: twoImages,
      responses: { 200: matcherAnswer('The comparison', { comparison }), ...compareErrors },
    },
  },
};
