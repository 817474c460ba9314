import { DASHBOARD_PATHS } from './openapi-dashboard';
import { SIMILARITY_PATHS } from './openapi-similarity';
import { errorResponse, jsonResponse, parameter } from './openapi-parts';
import { RAW_FRAME_CONTENT, RAW_FRAME_PARAMETERS } from './openapi-raw-frames';
import { componentSchemas } from './schemas';
import { BEFORE_PARAM, CAPTURED_AT_PARAM, CONFIRM_ALL_PARAM, ID_PARAM, LIST_LIMIT_PARAM, SOURCE_PARAM } from './schemas/params';
import { DISPLAY_PATHS, LOG_PATHS } from './openapi-display';

/**
 * The OpenAPI 3.1 description of the HTTP API, served at /openapi.json. Every JSON body is a
 * component printed from the zod schemas in schemas/, which the routes and the contract test use
 * too; this file only says which route answers what.
 */

const png = { description: 'The PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } };
const binary = { schema: { type: 'string', format: 'binary' } };

const uploadParams = [parameter(SOURCE_PARAM), parameter(CAPTURED_AT_PARAM), ...RAW_FRAME_PARAMETERS];
const idParams = [parameter(ID_PARAM)];

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
    'image/*': binary,
    'application/octet-stream': binary,
    ...RAW_FRAME_CONTENT,
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: {
          image: { type: 'array', items: binary.schema },
          source: SOURCE_PARAM.schema,
          captured_at: CAPTURED_AT_PARAM.schema,
        },
      },
    },
  },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'pi-image-receiver',
    version: '0.1.0',
    description: 'Receives images, turns them upright from EXIF, resizes them and stores them as PNG. '
      + 'Any route answers 403 cross_origin_refused to a change sent by a page of another origin (Origin or Sec-Fetch-Site), '
      + 'and, while no API token is set, 403 host_not_allowed to a request whose Host is not an address of the daemon (see allowed_hosts).',
  },
  // Optional: only when the daemon has an API token, and for reads only with require_token_for_reads.
  security: [{}, { bearerToken: [] }],
  paths: {
    '/health': {
      get: { summary: 'Liveness', responses: { 200: jsonResponse('Up', 'Health') } },
    },
    '/health/live': {
      get: { summary: 'Liveness for a supervisor: answers while the process serves', responses: { 200: jsonResponse('Serving', 'Live') } },
    },
    '/health/ready': {
      get: {
        summary: 'Readiness: whether an upload could be stored now',
        responses: {
          200: jsonResponse('Ready', 'Ready'),
          503: jsonResponse('Not ready: the store is loading, the data dir is not writable, or the disk is below min_free_disk_mb with nothing left to free', 'NotReady'),
        },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { 200: jsonResponse('OpenAPI 3.1', 'OpenApiDocument') } },
    },
    '/images': {
      post: {
        summary: 'Upload one image (raw body) or several (multipart field "image")',
        parameters: uploadParams,
        requestBody: imageBody,
        responses: {
          201: jsonResponse('Stored; Location names the first image', 'UploadCreated'),
          ...uploadErrors,
        },
      },
      get: {
        summary: 'List images, newest first',
        parameters: [parameter(LIST_LIMIT_PARAM), parameter(BEFORE_PARAM), parameter(SOURCE_PARAM)],
        responses: {
          200: jsonResponse('A page', 'ImagePage'),
          400: errorResponse('Bad parameter'),
        },
      },
      delete: {
        summary: 'Delete every image (needs confirm=all)',
        parameters: [parameter(CONFIRM_ALL_PARAM)],
        responses: { 200: jsonResponse('Deleted', 'DeletedAll'), 400: errorResponse('confirm missing') },
      },
    },
    '/upload': {
      post: {
        summary: 'The original receiver\'s upload: multipart field "file" (or "image")',
        parameters: uploadParams,
        requestBody: imageBody,
        responses: {
          200: jsonResponse('Stored', 'UploadSuccess'),
          ...uploadErrors,
        },
      },
    },
    '/images/latest': {
      get: { summary: 'The newest PNG', parameters: [parameter(SOURCE_PARAM)], responses: { 200: png, 404: errorResponse('No image yet') } },
    },
    '/images/{id}': {
      get: { summary: 'One PNG, with an ETag', parameters: idParams, responses: { 200: png, 304: { description: 'Not modified' }, 404: errorResponse('No such image') } },
      delete: { summary: 'Delete one image', parameters: idParams, responses: { 204: { description: 'Deleted' }, 404: errorResponse('No such image') } },
    },
    '/images/{id}/meta': {
      get: { summary: 'One image record', parameters: idParams, responses: { 200: jsonResponse('The record', 'ImageRecord'), 404: errorResponse('No such image') } },
    },
    '/config': {
      get: {
        summary: 'The settings in force: JSON, or the configuration page for Accept: text/html',
        responses: {
          200: {
            description: 'Settings (JSON by default), or the page when the client prefers text/html',
            content: { ...jsonResponse('', 'Settings').content, 'text/html': { schema: { type: 'string' } } },
          },
        },
      },
      post: {
        summary: 'Change some settings; validated whole, persisted, applied to the next image',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SettingsUpdate' } } } },
        responses: {
          200: jsonResponse('Updated', 'ConfigUpdated'),
          400: errorResponse('invalid_settings, with a reason per field in error.fields'),
          403: errorResponse('forbidden_setting: an operator-only setting (x-operator-only), named in error.fields; nothing changed'),
          415: errorResponse('unsupported_media_type: the body is not declared as application/json; nothing changed'),
        },
      },
    },
    ...DASHBOARD_PATHS,
    ...SIMILARITY_PATHS,
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
    schemas: componentSchemas(),
  },
};
