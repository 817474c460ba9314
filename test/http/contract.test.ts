import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { get } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import { MAX_LIVE_CLIENTS } from '../../server/http/routes/live';
import { API_SCHEMAS, type SchemaName } from '../../server/http/schemas';
import { photoLike, pngDeclaring, solidPng } from '../helpers/fixtures';
import { rawRequest } from '../helpers/raw-http';
import { SIMILARITY_CASES } from '../helpers/similarity-contract-cases';
import { form, jsonPost, postImage, startTestApp, type TestApp } from '../helpers/test-app';

/**
 * The contract: for every route and every status /openapi.json documents, the real app is made to
 * answer that status, and the body is parsed with the zod schema the document was printed from.
 * A documented status with no way to provoke it here fails the test, so the document cannot
 * promise more than is checked, nor the app answer what the document does not say.
 */

interface Answer { status: number; type: string; body: Buffer }
/** A body's schema; a refusal's narrows the Error component to the codes its operation names. */
interface MediaType { schema?: { $ref?: string; properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } }
interface Operation { responses: Record<string, { content?: Record<string, MediaType> }> }
type Paths = Record<string, Record<string, Operation>>;

/** What every provocation works with: one shared app, and a way to get a stored image's id. */
interface Harness {
  app: TestApp;
  /** Stores a fresh image and answers its id. */
  storedId(): Promise<string>;
}

const NO_SUCH_ID = '20000101T000000000-0000-0000';

/** An app with one display panel and no command, for the display routes. */
const DISPLAY_APP = { settings: { displays: [{ name: 'panel', width: 40, height: 30, palette: 'bw', render: 'on_request' }] } } as unknown as Parameters<typeof startTestApp>[0];

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

/** A conditional GET as a browser cache sends it (fetch() would add Cache-Control: no-cache). */
async function revalidate(app: TestApp, path: string): Promise<Answer> {
  const etag = (await app.fetch(path)).headers.get('etag');
  assert.ok(etag, `${path} has an ETag`);
  return new Promise((resolve, reject) => {
    get(`${app.url}${path}`, { headers: { 'If-None-Match': etag } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

/** An app of its own, for statuses that need settings or state the shared app must not keep. */
async function withApp(settings: Parameters<typeof startTestApp>[0], run: (app: TestApp) => Promise<Response | Answer>): Promise<Answer> {
  const app = await startTestApp(settings);
  try {
    const res = await run(app);
    return res instanceof Response ? await answer(res) : res;
  } finally {
    await app.destroy();
  }
}

/** Holds the processing slot and the one waiting place of an app with max_queue_length 1. */
async function whileQueueFull(app: TestApp, run: () => Promise<Response>): Promise<Answer> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  // Every processing slot (one per core; these tasks weigh nothing against the memory budget) and the one waiting place.
  const holders = Array.from({ length: availableParallelism() + 1 }, () => app.deps.flow.queue.run(() => gate));
  try {
    return await answer(await run());
  } finally {
    release();
    await Promise.all(holders);
  }
}

/** Reads a live stream up to its first `stats` event and hands that event's data on as the body. */
async function firstStats(res: Response, abort: AbortController): Promise<Answer> {
  const reader = res.body!.getReader();
  let text = '';
  // Bounded: the first stats event is sent on connect.
  for (let i = 0; i < 100 && !/event: stats\ndata: .*\n\n/.test(text); i++) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  abort.abort();
  const data = /event: stats\ndata: (.*)\n\n/.exec(text)?.[1] ?? '';
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(data) };
}

const jpeg = () => photoLike(40, 30);
const uploadTo = (path: '/images' | '/upload') => (app: TestApp, bytes: Uint8Array, query = '') =>
  path === '/images' ? postImage(app, bytes, query) : app.fetch(`/upload${query}`, { method: 'POST', body: form([bytes], 'file') });

/** How to provoke each documented status of each upload route. */
function uploadCases(path: '/images' | '/upload', okStatus: number): Record<string, (h: Harness) => Promise<Response | Answer>> {
  const upload = uploadTo(path);
  return {
    [`POST ${path} ${okStatus}`]: async ({ app }) => upload(app, await jpeg(), '?source=cam-1&captured_at=2026-11-24T08:30:00Z'),
    [`POST ${path} 400`]: async ({ app }) => upload(app, await jpeg(), '?source=../etc'),
    [`POST ${path} 413`]: async ({ app }) => upload(app, await pngDeclaring(20000, 20000)),
    [`POST ${path} 415`]: ({ app }) => upload(app, Buffer.from('plain text, not an image')),
    [`POST ${path} 422`]: async ({ app }) => upload(app, (await jpeg()).subarray(0, 200)),
    [`POST ${path} 503`]: () => withApp({ settings: { max_queue_length: 1 } }, async (app) => whileQueueFull(app, async () => upload(app, await jpeg()))),
    // As test/http/full-disk.test.ts does: no disk here has 16 TB free, and the store is empty.
    [`POST ${path} 507`]: () => withApp({ settings: { min_free_disk_mb: 16_777_216 } }, async (app) => upload(app, await jpeg())),
  };
}

/** The routes that process query images refuse with busy, before reading the body, while the queue is full. */
const QUERY_BUSY_CASES = Object.fromEntries(['/search', '/compare', '/extract-features', '/compare-images'].map((path) => [
  `POST ${path} 503`,
  () => withApp({ settings: { max_queue_length: 1 } }, async (app) => whileQueueFull(app, async () => app.fetch(path, { method: 'POST', body: form([await jpeg()], 'image1') }))),
]));

/** Every documented (method, path, status), and how to make the real app answer it. */
const CASES: Record<string, (h: Harness) => Promise<Response | Answer>> = {
  'GET /health 200': ({ app }) => app.fetch('/health'),
  'GET /health/live 200': ({ app }) => app.fetch('/health/live'),
  'GET /health/ready 200': ({ app }) => app.fetch('/health/ready'),
  'GET /health/ready 503': () => withApp({}, (app) => {
    app.deps.loading = () => true;
    return app.fetch('/health/ready');
  }),
  'GET /openapi.json 200': ({ app }) => app.fetch('/openapi.json'),
  ...uploadCases('/images', 201),
  // Every file repeats a stored image: nothing is stored, the duplicates are named.
  'POST /images 200': () => withApp({ settings: { duplicate_max_distance: 10 } }, async (app) => {
    const still = await solidPng(24, 16);
    assert.equal((await postImage(app, still, '', 'image/png')).status, 201);
    return postImage(app, still, '', 'image/png');
  }),
  ...uploadCases('/upload', 200),
  'GET /images 200': async (h) => {
    await h.storedId();
    await h.storedId();
    return h.app.fetch('/images?limit=1');
  },
  'GET /images 400': ({ app }) => app.fetch('/images?limit=0'),
  'DELETE /images 200': () => withApp({}, async (app) => {
    await postImage(app, await jpeg());
    return app.fetch('/images?confirm=all', { method: 'DELETE' });
  }),
  'DELETE /images 400': ({ app }) => app.fetch('/images', { method: 'DELETE' }),
  'GET /images/latest 200': async (h) => {
    await h.storedId();
    return h.app.fetch('/images/latest');
  },
  'GET /images/latest 400': ({ app }) => app.fetch('/images/latest?source=../x'),
  'GET /images/latest 404': ({ app }) => app.fetch('/images/latest?source=nobody'),
  'GET /images/{id} 200': async (h) => h.app.fetch(`/images/${await h.storedId()}`),
  'GET /images/{id} 304': async (h) => revalidate(h.app, `/images/${await h.storedId()}`),
  'GET /images/{id} 400': async (h) => h.app.fetch(`/images/${await h.storedId()}?boxes=yes`),
  'GET /images/{id} 404': ({ app }) => app.fetch(`/images/${NO_SUCH_ID}`),
  'DELETE /images/{id} 204': async (h) => h.app.fetch(`/images/${await h.storedId()}`, { method: 'DELETE' }),
  'DELETE /images/{id} 404': ({ app }) => app.fetch(`/images/${NO_SUCH_ID}`, { method: 'DELETE' }),
  'GET /images/{id}/meta 200': async (h) => h.app.fetch(`/images/${await h.storedId()}/meta`),
  'GET /images/{id}/meta 404': ({ app }) => app.fetch(`/images/${NO_SUCH_ID}/meta`),
  'GET /images/{id}/thumbnail 200': async (h) => h.app.fetch(`/images/${await h.storedId()}/thumbnail`),
  'GET /images/{id}/thumbnail 304': async (h) => revalidate(h.app, `/images/${await h.storedId()}/thumbnail`),
  'GET /images/{id}/thumbnail 404': ({ app }) => app.fetch(`/images/${NO_SUCH_ID}/thumbnail`),
  'GET /config 200': ({ app }) => app.fetch('/config'),
  'POST /config 200': ({ app }) => app.fetch('/config', jsonPost({ compression_quality: 6 })),
  'POST /config 400': ({ app }) => app.fetch('/config', jsonPost({ compression_quality: 12, nope: 1 })),
  'POST /config 403': ({ app }) => app.fetch('/config', jsonPost({ id_log_file: '/tmp/ids.log' })),
  'POST /config 415': ({ app }) => app.fetch('/config', { method: 'POST', body: '{"compression_quality": 1}', headers: { 'Content-Type': 'text/plain' } }),
  // With the id-log consumer on, so that `consumers` has an entry to check.
  'GET /memory_status 200': async () => {
    const idLog = join(tmpdir(), `pir-contract-ids-${process.pid}.log`);
    try {
      return await withApp({ settings: { id_log_file: idLog } }, async (app) => {
        assert.equal((await postImage(app, await jpeg())).status, 201);
        const res = await app.fetch('/memory_status');
        const status = await res.clone().json() as { consumers: Record<string, unknown> };
        assert.ok(Object.keys(status.consumers).length > 0, 'a durable consumer is shown');
        return res;
      });
    } finally {
      await rm(idLog, { force: true });
    }
  },
  'GET /metrics 200': ({ app }) => app.fetch('/metrics'),
  'GET /events 200': async ({ app }) => {
    const abort = new AbortController();
    return firstStats(await app.fetch('/events', { signal: abort.signal }), abort);
  },
  'GET /events 503': () => withApp({}, async (app) => {
    const open: AbortController[] = [];
    try {
      for (let i = 0; i < MAX_LIVE_CLIENTS; i++) {
        open.push(new AbortController());
        await firstStats(await app.fetch('/events', { signal: open[i].signal }), new AbortController());
      }
      return await answer(await app.fetch('/events'));
    } finally {
      for (const abort of open) abort.abort();
    }
  }),
  'GET / 200': async (h) => {
    await h.storedId();
    return h.app.fetch('/', { headers: { Accept: 'text/html' } });
  },
  'GET / 400': ({ app }) => app.fetch('/?source=../x'),
  'GET /upload_form 200': ({ app }) => app.fetch('/upload_form'),
  'GET /favicon.ico 200': ({ app }) => app.fetch('/favicon.ico'),
  'GET /favicon.ico 304': ({ app }) => revalidate(app, '/favicon.ico'),
  'GET /static/{file} 200': ({ app }) => app.fetch('/static/dashboard.js'),
  'GET /static/{file} 304': ({ app }) => revalidate(app, '/static/app.css'),
  'GET /static/{file} 404': ({ app }) => app.fetch('/static/nothing.js'),
  ...SIMILARITY_CASES,
  ...QUERY_BUSY_CASES,
  // Logs and displays.
  'GET /logs 200': ({ app }) => app.fetch('/logs?limit=5'),
  'GET /logs 400': ({ app }) => app.fetch('/logs?limit=0'),
  'GET /logs/stream 200': async ({ app }) => {
    const abort = new AbortController();
    const res = await app.fetch('/logs/stream', { signal: abort.signal });
    const got = { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from((await res.body!.getReader().read()).value ?? []) };
    abort.abort();
    return got;
  },
  'GET /logs/stream 503': () => withApp({}, async (app) => {
    const aborts = Array.from({ length: 8 }, () => new AbortController());
    await Promise.all(aborts.map((abort) => app.fetch('/logs/stream', { signal: abort.signal })));
    const got = await answer(await app.fetch('/logs/stream'));
    for (const abort of aborts) abort.abort();
    return got;
  }),
  'GET /logs/viewer 200': ({ app }) => app.fetch('/logs/viewer'),
  'GET /images/{id}/frame 200': () => withApp(DISPLAY_APP, async (app) => {
    const res = await postImage(app, await solidPng(24, 16), '', 'image/png');
    const id = ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
    return app.fetch(`/images/${id}/frame?display=panel`);
  }),
  'GET /images/{id}/frame 404': ({ app }) => app.fetch(`/images/${NO_SUCH_ID}/frame?display=panel`),
  'GET /images/{id}/frame 400': () => withApp(DISPLAY_APP, async (app) => {
    const res = await postImage(app, await solidPng(24, 16), '', 'image/png');
    const id = ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
    return app.fetch(`/images/${id}/frame?display=panel&preview=1&saturation=9`);
  }),
  'GET /images/{id}/frame 413': () => withApp(DISPLAY_APP, async (app) => {
    const res = await postImage(app, await solidPng(2000, 2000), '', 'image/png');
    const id = ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
    await app.deps.settings.update({ memory_budget_mb: 101 });
    return app.fetch(`/images/${id}/frame?display=panel`);
  }),
  'GET /images/{id}/frame 503': () => withApp({ settings: { ...DISPLAY_APP!.settings, max_queue_length: 1 } }, async (app) => {
    const res = await postImage(app, await solidPng(24, 16), '', 'image/png');
    const id = ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
    return whileQueueFull(app, () => app.fetch(`/images/${id}/frame?display=panel&preview=1&dither=none`));
  }),
  'GET /displays 200': () => withApp(DISPLAY_APP, (app) => app.fetch('/displays')),
  'POST /displays/{name}/show 202': () => withApp(DISPLAY_APP, async (app) => {
    const res = await postImage(app, await solidPng(24, 16), '', 'image/png');
    const id = ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
    const accepted = await answer(await app.fetch('/displays/panel/show', jsonPost({ id })));
    // The frame is rendered after the 202: let it be written before the data dir is removed.
    for (let i = 0; i < 200 && (await app.deps.displays.record('panel')).shown?.id !== id; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    return accepted;
  }),
  'POST /displays/{name}/show 400': () => withApp(DISPLAY_APP, (app) => app.fetch('/displays/panel/show', jsonPost({}))),
  'POST /displays/{name}/show 404': ({ app }) => app.fetch('/displays/nope/show', jsonPost({ id: NO_SUCH_ID })),
  'POST /displays/{name}/show 415': () => withApp(DISPLAY_APP, (app) => app.fetch('/displays/panel/show', { method: 'POST', body: `{"id": "${NO_SUCH_ID}"}` })),
};

/**
 * The access checks' refusals, which /openapi.json lists on every operation they apply to: each is
 * provoked on every such operation the same way, by {@link accessRefusal}, rather than in CASES.
 */
const ACCESS_REFUSALS: Record<string, 'unauthorized' | 'host_not_allowed'> = { 401: 'unauthorized', 403: 'host_not_allowed' };

/** The operations an access refusal does not apply to: the public reads (server/http/auth.ts) need no token. */
const ACCESS_EXEMPT: Record<string, string[]> = {
  unauthorized: ['GET /favicon.ico', 'GET /health', 'GET /health/live', 'GET /health/ready', 'GET /static/{file}'],
  host_not_allowed: [],
};

/** The codes a documented refusal narrows the Error component to. */
function codesOf(operation: Operation, status: string): string[] {
  return operation.responses[status]?.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum ?? [];
}

/** A documented status that only an access check answers. */
function isAccessOnly(operation: Operation, status: string): boolean {
  const codes = codesOf(operation, status);
  return codes.length === 1 && codes[0] === ACCESS_REFUSALS[status];
}

/** `method path` refused by an access check: without the token of `tokenApp`, or through a foreign Host to `app`. */
async function accessRefusal(code: 'unauthorized' | 'host_not_allowed', apps: { app: TestApp; tokenApp: TestApp }, method: string, path: string): Promise<Answer> {
  const concrete = path.replace(/\{(\w+)\}/g, '$1');
  const res = code === 'unauthorized'
    ? await rawRequest(apps.tokenApp.url, method, concrete)
    : await rawRequest(apps.app.url, method, concrete, { Host: 'rebound.attacker.example' });
  return { status: res.status, type: String(res.headers['content-type'] ?? ''), body: res.body };
}

/** The documented media types an answer may have; `image/*` covers every image type. */
function typeMatches(documented: string[], type: string): boolean {
  const base = type.split(';')[0].trim();
  return documented.some((media) => media === base || (media.endsWith('/*') && base.startsWith(media.slice(0, -1))));
}

describe('the API contract: every documented route and status, against the real app', () => {
  let app: TestApp;
  let tokenApp: TestApp;
  let paths: Paths;
  let harness: Harness;
  before(async () => {
    app = await startTestApp();
    tokenApp = await startTestApp({ apiToken: 'contract-token', settings: { require_token_for_reads: true } });
    paths = ((await (await app.fetch('/openapi.json')).json()) as { paths: Paths }).paths;
    harness = {
      app,
      async storedId() {
        const res = await postImage(app, await solidPng(24, 16), '', 'image/png');
        assert.equal(res.status, 201);
        return ((await res.json()) as { images: Array<{ id: string }> }).images[0].id;
      },
    };
  });
  after(async () => {
    await app.destroy();
    await tokenApp.destroy();
  });

  const documented = (accessOnly: boolean): string[] => Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).flatMap(([method, op]) => Object.keys(op.responses)
      .filter((status) => isAccessOnly(op, status) === accessOnly)
      .map((status) => `${method.toUpperCase()} ${path} ${status}`)));

  it('has a provocation for every documented status, and none for an undocumented one', () => {
    assert.deepEqual(Object.keys(CASES).sort(), documented(false).sort());
  });

  for (const [status, code] of Object.entries(ACCESS_REFUSALS)) {
    it(`answers ${status} ${code} on every operation that lists it`, async () => {
      const operations = Object.entries(paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));
      const keys = operations.filter(({ op }) => codesOf(op, status).includes(code)).map(({ key }) => key);
      assert.deepEqual(operations.map(({ key }) => key).filter((key) => !keys.includes(key)).sort(), ACCESS_EXEMPT[code]);
      for (const key of keys) {
        const [method, path] = key.split(' ');
        const got = await accessRefusal(code, { app, tokenApp }, method, path);
        assert.equal(got.status, Number(status), `${key}: ${got.body.toString('utf8').slice(0, 300)}`);
        const parsed = API_SCHEMAS.Error.safeParse(JSON.parse(got.body.toString('utf8')));
        assert.ok(parsed.success && parsed.data.error.code === code, `${key}: ${got.body.toString('utf8').slice(0, 300)}`);
      }
    });
  }

  for (const [key, provoke] of Object.entries(CASES)) {
    it(key, async () => {
      const [method, path, status] = key.split(' ');
      const response = paths[path]?.[method.toLowerCase()]?.responses[status];
      assert.ok(response, `${key} is documented`);
      const result = await provoke(harness);
      const got = result instanceof Response ? await answer(result) : result;
      assert.equal(got.status, Number(status), `${key}: ${got.body.toString('utf8').slice(0, 300)}`);
      const content = response.content;
      if (!content) {
        assert.equal(got.body.length, 0, `${key} has no body`);
        return;
      }
      assert.ok(typeMatches(Object.keys(content), got.type), `${key}: ${got.type} is one of ${Object.keys(content).join(', ')}`);
      const ref = content['application/json']?.schema?.$ref;
      if (got.type.startsWith('application/json') || key === 'GET /events 200') {
        // The live stream's stats events carry what /memory_status answers.
        const name = (key === 'GET /events 200' ? 'MemoryStatus' : ref?.split('/').pop()) as SchemaName;
        const schema: z.ZodType = API_SCHEMAS[name];
        assert.ok(schema, `${key}: a component schema for ${ref}`);
        const body: unknown = JSON.parse(got.body.toString('utf8'));
        const parsed = schema.safeParse(body);
        assert.ok(parsed.success, `${key}: ${parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        // A refusal's code is one of those its operation names.
        const codes = content['application/json']?.schema?.properties?.error?.properties?.code?.enum;
        if (codes) assert.ok(codes.includes((body as { error: { code: string } }).error.code), `${key}: ${got.body.toString('utf8').slice(0, 300)} is one of ${codes.join(', ')}`);
      } else {
        assert.ok(got.body.length > 0, `${key} has a body`);
      }
    });
  }
});
