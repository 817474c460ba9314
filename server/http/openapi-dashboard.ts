/** The OpenAPI paths of monitoring, live updates, thumbnails and the dashboard pages (issue 3). */

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const object = (properties: Record<string, object>, description?: string) => ({ type: 'object', properties, ...(description ? { description } : {}) });
const integer = { type: 'integer' };
const number = { type: 'number' };
const nullableNumber = { type: ['number', 'null'] };

/** What GET /memory_status answers; every size in bytes unless its key says MB. */
export const MEMORY_STATUS_SCHEMA = object({
  memory_rss_mb: { ...number, description: 'The original receiver\'s key: RSS in MiB' },
  memory_vms_mb: { ...nullableNumber, description: 'The original receiver\'s key: VMS in MiB' },
  cpu_percent: { ...number, description: 'The original receiver\'s key: CPU since the previous sample, percent of one core' },
  config: { $ref: '#/components/schemas/Settings' },
  sampled_at: { type: 'string', format: 'date-time' },
  uptime_s: integer,
  process: object({
    rss_bytes: integer, vms_bytes: { type: ['integer', 'null'] }, rss_mb: number, vms_mb: nullableNumber,
    heap_used_bytes: integer, heap_total_bytes: integer, external_bytes: integer, array_buffers_bytes: integer, cpu_percent: number,
  }),
  system: object({ total_memory_bytes: integer, available_memory_bytes: integer, load_average: { type: 'array', items: number, minItems: 3, maxItems: 3 } }),
  libvips: object({ cache: { type: 'object', description: 'sharp.cache(): memory (MiB), files and items, each current/high/max' }, counters: object({ queue: integer, process: integer }) }),
  processing: object({
    received: integer, stored: integer, rejected: { type: 'object', additionalProperties: integer, description: 'By error code' },
    rejected_total: integer, in_flight: integer, queued: integer, bytes_stored: integer, last_ms: { type: ['integer', 'null'] }, average_ms: { type: ['integer', 'null'] },
  }),
  store: object({ images: integer, bytes: integer }),
  consumers: {
    type: 'object', description: 'Each durable consumer by name: its cursor, what waits, and how it went',
    additionalProperties: object({
      delivery: { enum: ['each', 'latest'] }, cursor: { type: ['string', 'null'] }, pending: integer, busy: { type: 'boolean' },
      delivered: integer, skipped: integer, failures: integer,
      last_success_at: { type: ['string', 'null'] }, last_error: { type: ['string', 'null'] }, last_error_at: { type: ['string', 'null'] },
    }),
  },
});

export const DASHBOARD_PATHS = {
  '/memory_status': {
    get: {
      summary: 'Memory, CPU, libvips and processing counters, at most about a second old: JSON, or the live page for Accept: text/html',
      responses: {
        200: {
          description: 'The readings (JSON by default, so curl gets JSON), or the memory-status page when the client prefers text/html',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/MemoryStatus' } }, 'text/html': { schema: { type: 'string' } } },
        },
      },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics: default process metrics and image_receiver_* counters, histogram and gauges',
      responses: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
  '/events': {
    get: {
      summary: 'Server-Sent Events for the live pages: history and stats on connect, then stats and point about every second, image for each stored image',
      responses: {
        200: { description: 'An endless text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        503: error('busy: too many live pages open'),
      },
    },
  },
  '/images/{id}/thumbnail': {
    get: {
      summary: 'A WebP thumbnail (at most 320 px a side), made on first request and kept until the image is deleted',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        200: { description: 'The thumbnail', content: { 'image/webp': { schema: { type: 'string', format: 'binary' } } } },
        304: { description: 'Not modified' },
        404: error('No such image'),
      },
    },
  },
  '/': {
    get: {
      summary: 'The dashboard page: settings, latest thumbnails, live memory and CPU',
      parameters: [{ name: 'source', in: 'query', required: false, schema: { type: 'string' }, description: 'Show only this source\'s images' }],
      responses: { 200: html('The page'), 400: error('Bad source') },
    },
  },
  '/upload_form': {
    get: { summary: 'The upload page (where the original receiver had its form)', responses: { 200: html('The page') } },
  },
  '/static/{file}': {
    get: {
      summary: 'The pages\' scripts and stylesheets, and the chart library (uPlot) from its npm package',
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        200: { description: 'The file', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } },
        304: { description: 'Not modified' },
        404: error('No such file'),
      },
    },
  },
};
