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

/** Paths of issue 11, spread into OPENAPI_DOCUMENT.paths. */
export const SIMILARITY_PATHS = {
  '/images/{id}/similar': {
    get: {
      summary: 'Stored images with the nearest perceptual hash',
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        query('limit', { ...integer, minimum: 1, maximum: 100, default: 10 }),
        query('max_distance', { ...integer, minimum: 0, maximum: 64, default: 64 }),
      ],
      responses: { 200: similarAnswer, 400: error('Bad parameter'), 404: error('No such image'), 503: error('busy: not hashed yet') },
    },
  },
  '/search': {
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
};
