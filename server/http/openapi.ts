import { ERROR_CATALOG } from '../errors';
import { jsonSchemaOf } from '../setting-kinds';
import { describeSpec, SETTING_SPECS } from '../settings';
import { DASHBOARD_PATHS, MEMORY_STATUS_SCHEMA } from './openapi-dashboard';
import { DISPLAY_PATHS, LOG_PATHS } from './openapi-display';

/** The OpenAPI 3.1 description of the HTTP API, served at /openapi.json; a test keeps it true. */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const png = { description: 'The PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } };

const sourceParam = {
  name: 'source', in: 'query', required: false,
  description: 'Camera or topic name', schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
};
const capturedAtParam = {
  name: 'captured_at', in: 'query', required: false,
  description: 'When the image was captured (ISO-8601)', schema: { type: 'string', format: 'date-time' },
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const uploadErrors = {
  400: errorResponse('Bad parameter or empty body'),
  413: errorResponse('payload_too_large (bytes) or too_many_pixels (pixels)'),
  415: errorResponse('unsupported_media_type: the bytes are not a supported image'),
  422: errorResponse('invalid_image: corrupt or truncated image'),
  503: errorResponse('busy: the processing queue is full; see Retry-After'),
  507: errorResponse('insufficient_storage: the disk is full, or below min_free_disk_mb with nothing left to remove'),
};

const imageBody = {
  required: true,
  content: {
    'image/*': { schema: { type: 'string', format: 'binary' } },
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: {
          image: { type: 'array', items: { type: 'string', format: 'binary' } },
          source: { type: 'string' },
          captured_at: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
};

const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(Object.entries(SETTING_SPECS).map(([key, spec]) => [key, jsonSchemaOf(spec)])),
  description: Object.entries(SETTING_SPECS).map(([key, spec]) => `${key}: ${describeSpec(spec)}`).join('; '),
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'pi-image-receiver',
    version: '0.1.0',
    description: 'Receives images, turns them upright from EXIF, resizes them and stores them as PNG.',
  },
  // Optional: only when the daemon has an API token, and for reads only with require_token_for_reads.
  security: [{}, { bearerToken: [] }],
  paths: {
    '/health': {
      get: { summary: 'Liveness', responses: { 200: { description: 'Up', content: json({ type: 'object', properties: { status: { const: 'ok' } } }) } } },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } },
    },
    '/images': {
      post: {
        summary: 'Upload one image (raw body) or several (multipart field "image")',
        parameters: [sourceParam, capturedAtParam],
        requestBody: imageBody,
        responses: {
          201: { description: 'Stored; Location names the first image', content: json({ type: 'object', properties: { images: { type: 'array', items: ref('ImageRecord') } } }) },
          ...uploadErrors,
        },
      },
      get: {
        summary: 'List images, newest first',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
          { name: 'before', in: 'query', description: 'The `next` cursor of the previous page', schema: { type: 'string' } },
          sourceParam,
        ],
        responses: {
          200: { description: 'A page', content: json({ type: 'object', properties: { images: { type: 'array', items: ref('ImageRecord') }, next: { type: ['string', 'null'] } } }) },
          400: errorResponse('Bad parameter'),
        },
      },
      delete: {
        summary: 'Delete every image (needs confirm=all)',
        parameters: [{ name: 'confirm', in: 'query', required: true, schema: { const: 'all' } }],
        responses: { 200: { description: 'Deleted', content: json({ type: 'object', properties: { deleted: { type: 'integer' } } }) }, 400: errorResponse('confirm missing') },
      },
    },
    '/upload': {
      post: {
        summary: 'The original receiver\'s upload: multipart field "file" (or "image")',
        parameters: [sourceParam, capturedAtParam],
        requestBody: imageBody,
        responses: {
          200: { description: 'Stored', content: json({ type: 'object', properties: { status: { const: 'success' }, images: { type: 'array', items: ref('ImageRecord') } } }) },
          ...uploadErrors,
        },
      },
    },
    '/images/latest': {
      get: { summary: 'The newest PNG', parameters: [sourceParam], responses: { 200: png, 404: errorResponse('No image yet') } },
    },
    '/images/{id}': {
      get: { summary: 'One PNG, with an ETag', parameters: [idParam], responses: { 200: png, 304: { description: 'Not modified' }, 404: errorResponse('No such image') } },
      delete: { summary: 'Delete one image', parameters: [idParam], responses: { 204: { description: 'Deleted' }, 404: errorResponse('No such image') } },
    },
    '/images/{id}/meta': {
      get: { summary: 'One image record', parameters: [idParam], responses: { 200: { description: 'The record', content: json(ref('ImageRecord')) }, 404: errorResponse('No such image') } },
    },
    '/config': {
      get: {
        summary: 'The settings in force: JSON, or the configuration page for Accept: text/html',
        responses: { 200: { description: 'Settings (JSON by default), or the page when the client prefers text/html', content: { ...json(ref('Settings')), 'text/html': { schema: { type: 'string' } } } } },
      },
      post: {
        summary: 'Change some settings; validated whole, persisted, applied to the next image',
        requestBody: { required: true, content: json(ref('SettingsUpdate')) },
        responses: {
          200: { description: 'Updated', content: json({ type: 'object', properties: { status: { const: 'success' }, message: { type: 'string' }, config: ref('Settings') } }) },
          400: errorResponse('invalid_settings, with a reason per field in error.fields'),
          403: errorResponse('forbidden_setting: an operator-only setting (x-operator-only), named in error.fields; nothing changed'),
        },
      },
    },
    ...DASHBOARD_PATHS,
    ...LOG_PATHS,
    ...DISPLAY_PATHS,
  },
  components: {
    securitySchemes: {
      bearerToken: {
        type: 'http', scheme: 'bearer',
        description: 'The API token, when one is set; reads may carry it as ?access_token= instead. Without it: 401 unauthorized.',
      },
    },
    schemas: {
      Error: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { enum: Object.keys(ERROR_CATALOG) },
              message: { type: 'string' },
              fields: { type: 'object', additionalProperties: { type: 'string' } },
            },
          },
        },
      },
      Settings: { ...settingsSchema, required: Object.keys(SETTING_SPECS) },
      SettingsUpdate: settingsSchema,
      MemoryStatus: MEMORY_STATUS_SCHEMA,
      ImageRecord: {
        type: 'object',
        required: ['id', 'source', 'url', 'width', 'height', 'bytes', 'format', 'compression_level', 'received_at', 'captured_at', 'processing_ms', 'original', 'rotated', 'resized'],
        properties: {
          id: { type: 'string' },
          source: { type: 'string' },
          url: { type: 'string' },
          width: { type: 'integer' },
          height: { type: 'integer' },
          bytes: { type: 'integer' },
          format: { const: 'png' },
          compression_level: { type: 'integer' },
          received_at: { type: 'string', format: 'date-time' },
          captured_at: { type: ['string', 'null'], format: 'date-time' },
          processing_ms: { type: 'integer' },
          original: {
            type: 'object',
            properties: {
              width: { type: 'integer' }, height: { type: 'integer' }, format: { type: 'string' },
              bytes: { type: 'integer' }, orientation: { type: 'integer', minimum: 1, maximum: 8 },
            },
          },
          rotated: { type: 'boolean' },
          resized: { type: 'boolean' },
          exif: { type: 'object', properties: { make: { type: 'string' }, model: { type: 'string' }, taken_at: { type: 'string' } } },
          options: { type: 'object', description: 'Per-request options sent with the image' },
        },
      },
    },
  },
};
