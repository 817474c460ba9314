import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRouter } from '../../server/app';
import { ERROR_CATALOG } from '../../server/errors';
import { ANY_ROUTE_REFUSALS, openApiDocument, operationIdOf } from '../../server/http/openapi';
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

  it('names every code of the catalog: on the operations that refuse with it, or as one any request may meet', async () => {
    const app = await startTestApp();
    try {
      const doc = await (await app.fetch('/openapi.json')).json() as {
        paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } }> }> }>>;
      };
      const named = new Set(Object.keys(ANY_ROUTE_REFUSALS));
      for (const operation of Object.values(doc.paths).flatMap((ops) => Object.values(ops))) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const codes = response.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum ?? [];
          for (const code of codes) {
            assert.equal(ERROR_CATALOG[code as keyof typeof ERROR_CATALOG], Number(status), `${code} is documented under its catalog status`);
            named.add(code);
          }
        }
      }
      assert.deepEqual([...named].sort(), Object.keys(ERROR_CATALOG).sort());
    } finally {
      await app.destroy();
    }
  });

  it('gives every operation an operationId from its method and path, unique, or the one it declares', async () => {
    assert.equal(operationIdOf({ method: 'get', path: '/' }), 'getRoot');
    assert.equal(operationIdOf({ method: 'get', path: '/images/:id/meta' }), 'getImagesByIdMeta');
    assert.equal(operationIdOf({ method: 'post', path: '/displays/:name/show' }), 'postDisplaysByNameShow');
    assert.equal(operationIdOf({ method: 'get', path: '/memory_status' }), 'getMemoryStatus');
    assert.equal(operationIdOf({ method: 'get', path: '/openapi.json' }), 'getOpenapiJson');
    const app = await startTestApp();
    try {
      const doc = await (await app.fetch('/openapi.json')).json() as { paths: Record<string, Record<string, { operationId: string }>> };
      const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
      assert.ok(ids.every((id) => /^[a-z][A-Za-z0-9]+$/.test(id)), ids.join(', '));
      assert.equal(new Set(ids).size, ids.length);
    } finally {
      await app.destroy();
    }
    const ok = { description: 'OK' };
    const declared = openApiDocument([{ method: 'get', path: '/a', operationId: 'readA', summary: 'A', responses: { 200: ok } }]);
    assert.equal((declared.paths['/a'].get as { operationId: string }).operationId, 'readA');
    // /a-b and /a_b read alike: a clash is refused, not served.
    assert.throws(() => openApiDocument([
      { method: 'get', path: '/a-b', summary: 'A', responses: { 200: ok } },
      { method: 'get', path: '/a_b', summary: 'B', responses: { 200: ok } },
    ]), /operationId getAB is taken/);
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
