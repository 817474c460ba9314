import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createApp } from '../../server/app';
import type { AppDeps } from '../../server/app-deps';
import { capConnectionsPerClient } from '../../server/http/cap-connections-per-client';
import { answerClientErrors } from '../../server/http/client-errors';
import type { BodyRateLimit } from '../../server/http/min-body-rate';
import { silentLogger, type Logger } from '../../server/log';
import type { LogRing } from '../../server/log-ring';
import { openServices } from '../../server/services';
import type { SettingsInput } from '../../server/settings';

/** A daemon built in this process over a temporary data dir, listening on 127.0.0.1. */
export interface TestApp {
  url: string;
  dataDir: string;
  deps: AppDeps;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the server; the data dir stays until {@link TestApp.destroy}. */
  close(): Promise<void>;
  /** Closes and builds a new daemon over the same data dir, as a restart would. */
  restart(): Promise<TestApp>;
  /** Closes and removes the data dir. */
  destroy(): Promise<void>;
}

export interface TestAppOptions {
  settings?: SettingsInput;
  dataDir?: string;
  /** Turns access control on with this token. */
  apiToken?: string;
  /** Where log lines go; dropped by default. */
  log?: Logger;
  /** The ring GET /logs reads; give the one `log` feeds to see its lines there. */
  logs?: LogRing;
  /** The slowest a request body may arrive; no floor by default. */
  bodyRate?: BodyRateLimit;
  /** The label models' folder (labels/models-dir.ts); a missing one by default, so labels' auto is off. */
  modelsDir?: string;
  /** Caps the connections from one client, as main.ts does; no cap by default. */
  maxConnectionsPerClient?: number;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'pir-test-')));
  const deps = await openServices({
    dataDir,
    runtimeConfigFile: join(dataDir, 'settings.json'),
    settingsLayers: [options.settings ?? {}],
    // No models unless a test names them: where they are installed, labels' auto would start the
    // labels worker for every test that stores an image.
    modelsDir: options.modelsDir ?? join(dataDir, 'no-models'),
    env: process.env,
    log: options.log ?? silentLogger,
    logs: options.logs,
    apiToken: options.apiToken,
  });
  const server = createServer(createApp(deps, { bodyRate: options.bodyRate }).callback());
  answerClientErrors(server);
  if (options.maxConnectionsPerClient) capConnectionsPerClient(server, { maxPerClient: options.maxConnectionsPerClient, log: deps.log });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    deps.monitor.stop();
    deps.similarity.stop();
    void deps.features.close();
    void deps.labels.close();
    void deps.imageWorker.close();
    // As main.ts does: MQTT says offline, and the consumers stop, so that a restart over the same
    // data dir does not leave an old runner moving the same cursor.
    await deps.mqtt.stop();
    await deps.consumers.stop(1000);
    await closeServer(server);
    await deps.store.close();
  };
  const app: TestApp = {
    url,
    dataDir,
    deps,
    async fetch(path, init) {
      const res = await fetch(`${url}${path}`, init);
      // New images are hashed just after their upload is answered, rewriting their record: let
      // that finish, so that what a test reads next (files, records) is at rest. A test of the
      // hashing itself fetches from app.url directly.
      await deps.similarity.settled();
      return res;
    },
    close,
    async restart() {
      await close();
      return startTestApp({ ...options, dataDir });
    },
    async destroy() {
      await close();
      // Work the app answered before finishing (a display's run, 202) may still write a file
      // into a folder being removed: rm retries on ENOTEMPTY.
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
  return app;
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Every file under the data dir but the runtime settings, as relative paths: what an upload left. */
export async function filesIn(dataDir: string): Promise<string[]> {
  const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dataDir, join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)))
    .filter((path) => path !== 'settings.json')
    .sort();
}

/** POSTs raw bytes as an upload. */
export function postImage(app: TestApp, body: Uint8Array, query = '', type = 'image/jpeg'): Promise<Response> {
  return app.fetch(`/images${query}`, { method: 'POST', body, headers: { 'Content-Type': type } });
}

/** A POST of `body` as JSON, declared so: the daemon reads no JSON body of another type. */
export function jsonPost(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } };
}

/** A multipart form with the given files in `field` and plain fields. */
export function form(files: Uint8Array[], field = 'image', fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  files.forEach((bytes, i) => body.append(field, new Blob([bytes]), `image-${i}.jpg`));
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return body;
}

/**
 * The status of a GET with exactly these headers; fetch() would add Cache-Control: no-cache to a
 * conditional request, so this asks as a browser cache would.
 */
export function statusOf(url: string, headers: { [name: string]: string }): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}
