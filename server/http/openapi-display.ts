import { errorResponse, jsonResponse } from './openapi-parts';

/** The OpenAPI paths of display frames, display commands and the log (issue 10). */

const limitParam = {
  name: 'limit', in: 'query', required: false, description: 'How many of the newest lines (default 100)',
  schema: { type: 'integer', minimum: 1, maximum: 1000 },
};
const page = (summary: string) => ({ summary, responses: { 200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } } } });

/** Log paths; see server/http/routes/logs.ts. */
export const LOG_PATHS = {
  '/logs': {
    get: {
      summary: 'The newest log lines (secrets masked as in the journal), oldest first, from a ring of 1000',
      parameters: [limitParam],
      responses: { 200: jsonResponse('The lines', 'Logs'), 400: errorResponse('invalid_parameter: limit out of range') },
    },
  },
  '/logs/stream': {
    get: {
      summary: 'Server-Sent Events: a `log` event per line (a LogEntry), the newest `limit` lines first, then each new line',
      parameters: [limitParam],
      responses: {
        200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        503: errorResponse('busy: too many log streams open'),
      },
    },
  },
  '/logs/viewer': { get: page('A page that follows the log live') },
};

const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const displayParam = { name: 'display', in: 'query', required: false, description: 'The display profile; optional when only one is configured', schema: { type: 'string' } };

/** Display paths; see server/http/routes/displays.ts. */
export const DISPLAY_PATHS = {
  '/images/{id}/frame': {
    get: {
      summary: 'The image as the display shows it: an indexed-palette PNG of exactly the panel size, every pixel a palette colour',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, displayParam],
      responses: {
        200: { description: 'The frame', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
        404: errorResponse('not_found: no such image or display'),
      },
    },
  },
  '/displays': {
    get: {
      summary: 'Every display profile with its state: the image shown now, the last command run, pending and skipped counts',
      responses: { 200: jsonResponse('The displays', 'Displays') },
    },
  },
  '/displays/{name}/show': {
    post: {
      summary: 'Shows a stored image on the display again; answers at once, GET /displays tells how the run went',
      parameters: [nameParam],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } } },
      responses: {
        202: jsonResponse('Queued', 'ShowQueued'),
        400: errorResponse('invalid_parameter: no id'),
        404: errorResponse('not_found: no such display or image'),
        415: errorResponse('unsupported_media_type: the body is not declared as application/json'),
      },
    },
  },
};
