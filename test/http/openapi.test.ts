import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRouter } from '../../server/app';
import { ERROR_CATALOG } from '../../server/errors';
import { startTestApp } from '../helpers/test-app';

describe('/openapi.json', () => {
  it('describes exactly the routes the app serves', async () => {
    const app = await startTestApp();
    try {
      const doc = await (await app.fetch('/openapi.json')).json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
      assert.equal(doc.openapi, '3.1.0');
      const documented = Object.entries(doc.paths)
        .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      const served = createRouter(app.deps).stack
        .flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${layer.path.toString().replace(/:(\w+)/g, '{$1}')}`))
        .sort();
      assert.deepEqual(documented, served);
    } finally {
      await app.destroy();
    }
  });

  it('pins the error catalog', () => {
    assert.deepEqual(ERROR_CATALOG, {
      invalid_parameter: 400, invalid_settings: 400, unauthorized: 401, forbidden_setting: 403, cross_origin_refused: 403, host_not_allowed: 403, not_found: 404, method_not_allowed: 405,
      request_timeout: 408, headers_too_large: 431,
      payload_too_large: 413, too_many_pixels: 413, unsupported_media_type: 415, invalid_image: 422,
      too_many_connections: 429, busy: 503, insufficient_storage: 507, internal_error: 500,
    });
  });
});
