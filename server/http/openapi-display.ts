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
