/** The OpenAPI paths of display frames, display commands and the log (issue 10). */

const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
const limitParam = (max: number, fallback: number) => ({
  name: 'limit', in: 'query', required: false, description: `How many of the newest lines (default ${fallback})`,
  schema: { type: 'integer', minimum: 1, maximum: max },
});
const logEntry = {
  type: 'object',
  properties: { timestamp: { type: 'string', format: 'date-time' }, level: { type: 'string', enum: ['error', 'warn', 'info', 'debug'] }, message: { type: 'string' } },
};

/** Log paths; see server/http/routes/logs.ts. */
export const LOG_PATHS = {
  '/logs': {
    get: {
      summary: 'The newest log lines (secrets masked as in the journal), oldest first, from a ring of 1000',
      parameters: [limitParam(1000, 100)],
      responses: {
        200: {
          description: 'The lines',
          content: json({ type: 'object', properties: { logs: { type: 'array', items: logEntry }, count: { type: 'integer' }, total_buffered: { type: 'integer' } } }),
        },
        400: error('invalid_parameter: limit out of range'),
      },
    },
  },
  '/logs/stream': {
    get: {
      summary: 'Server-Sent Events: a `log` event per line, the newest `limit` lines first, then each new line',
      parameters: [limitParam(1000, 100)],
      responses: {
        200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        503: error('busy: too many log streams open'),
      },
    },
  },
  '/logs/viewer': {
    get: {
      summary: 'A page that follows the log live',
      responses: { 200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
};

const commandRun = {
  type: ['object', 'null'],
  description: 'The last run of the display command',
  properties: {
    image_id: { type: 'string' }, started_at: { type: 'string', format: 'date-time' }, duration_ms: { type: 'integer' },
    exit_code: { type: ['integer', 'null'] }, signal: { type: ['string', 'null'] }, timed_out: { type: 'boolean' }, ok: { type: 'boolean' },
    error: { type: 'string' }, output: { type: 'array', items: { type: 'string' }, maxItems: 20, description: 'The last 20 lines of output' },
  },
};
const displayParam = { name: 'display', in: 'query', required: false, description: 'The display profile; optional when only one is configured', schema: { type: 'string' } };

/** Display paths; see server/http/routes/displays.ts. */
export const DISPLAY_PATHS = {
  '/images/{id}/frame': {
    get: {
      summary: 'The image as the display shows it: an indexed-palette PNG of exactly the panel size, every pixel a palette colour',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, displayParam],
      responses: {
        200: { description: 'The frame', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
        404: error('not_found: no such image or display'),
      },
    },
  },
  '/displays': {
    get: {
      summary: 'Every display profile with its state: the image shown now, the last command run, pending and skipped counts',
      responses: {
        200: {
          description: 'The displays',
          content: json({
            type: 'object',
            properties: {
              displays: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' }, width: { type: 'integer' }, height: { type: 'integer' }, has_command: { type: 'boolean' },
                    shown: { type: ['object', 'null'], properties: { id: { type: 'string' }, at: { type: 'string' }, frame_url: { type: 'string' } } },
                    running: { type: ['object', 'null'], properties: { id: { type: 'string' }, started_at: { type: 'string' } } },
                    last_run: commandRun, runs: { type: 'integer' }, failures: { type: 'integer' }, skipped: { type: 'integer' }, pending: { type: 'integer' },
                  },
                },
              },
            },
          }),
        },
      },
    },
  },
  '/displays/{name}/show': {
    post: {
      summary: 'Shows a stored image on the display again; answers at once, GET /displays tells how the run went',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: { required: true, content: json({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } }) },
      responses: {
        202: { description: 'Queued', content: json({ type: 'object', properties: { status: { const: 'queued' }, display: { type: 'string' }, id: { type: 'string' } } }) },
        400: error('invalid_parameter: no id'),
        404: error('not_found: no such display or image'),
      },
    },
  },
};
