import { errorResponse, jsonResponse, parameter } from './openapi-parts';
import { ID_PARAM, SOURCE_PARAM } from './schemas/params';

/** The OpenAPI paths of monitoring, live updates, thumbnails and the dashboard pages (issue 3). */

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

export const DASHBOARD_PATHS = {
  '/memory_status': {
    get: {
      summary: 'Memory, CPU, libvips and processing counters, at most about a second old: JSON, or the live page for Accept: text/html',
      responses: {
        200: {
          description: 'The readings (JSON by default, so curl gets JSON), or the memory-status page when the client prefers text/html',
          content: { ...jsonResponse('', 'MemoryStatus').content, 'text/html': { schema: { type: 'string' } } },
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
        503: errorResponse('busy: too many live pages open'),
      },
    },
  },
  '/images/{id}/thumbnail': {
    get: {
      summary: 'A WebP thumbnail (at most 320 px a side), made on first request and kept until the image is deleted',
      parameters: [parameter(ID_PARAM)],
      responses: {
        200: { description: 'The thumbnail', content: { 'image/webp': { schema: { type: 'string', format: 'binary' } } } },
        304: { description: 'Not modified' },
        404: errorResponse('No such image'),
      },
    },
  },
  '/': {
    get: {
      summary: 'The dashboard page: settings, latest thumbnails, live memory and CPU',
      parameters: [{ ...parameter(SOURCE_PARAM), description: 'Show only this source\'s images' }],
      responses: { 200: html('The page'), 400: errorResponse('Bad source') },
    },
  },
  '/upload_form': {
    get: { summary: 'The upload page (where the original receiver had its form)', responses: { 200: html('The page') } },
  },
  '/favicon.ico': {
    get: {
      summary: 'The site icon, so that a browser\'s automatic request finds one',
      responses: { 200: { description: 'A 32 px icon (PNG in ICO)', content: { 'image/x-icon': { schema: { type: 'string', format: 'binary' } } } }, 304: { description: 'Not modified' } },
    },
  },
  '/static/{file}': {
    get: {
      summary: 'The pages\' scripts and stylesheets, and the chart library (uPlot) from its npm package',
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        200: { description: 'The file', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } },
        304: { description: 'Not modified' },
        404: errorResponse('No such file'),
      },
    },
  },
};
