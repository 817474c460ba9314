import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/log';
import { LogRing, type LogEntry } from '../../server/log-ring';
import type { SettingsInput } from '../../server/settings';
import { until, writeDisplayScript } from '../helpers/display-script';
import { cardPng } from '../helpers/frames';
import { startTestApp, type TestApp } from '../helpers/test-app';

const TOKEN = 'the-api-token-0123456789';
const MQTT_PASSWORD = 'Mqtt-Pa55word-x7';
const URL_PASSWORD = 'Url-Pa55word-q9';
// A closed port: the MQTT side keeps retrying in the background, logging why.
const MQTT_URL = `mqtt://cam:${URL_PASSWORD}@127.0.0.1:1`;
const PANEL = { name: 'panel', width: 48, height: 64, palette: 'spectra6' };

const withToken = (init: RequestInit = {}): RequestInit => ({
  ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${TOKEN}` },
});
const postJson = (body: unknown): RequestInit => withToken({ method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

/** The first `event` of the live stream, as text. */
async function firstEvent(app: TestApp, path: string, event: string): Promise<string> {
  const controller = new AbortController();
  const res = await app.fetch(path, { signal: controller.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (let i = 0; i < 200 && !new RegExp(`event: ${event}\\ndata: [^\\n]*\\n`).test(text); i++) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  controller.abort();
  const match = new RegExp(`event: ${event}\\ndata: ([^\\n]*)\\n`).exec(text);
  assert.ok(match, text.slice(0, 200));
  return match[1];
}

describe('credentials in URL settings', () => {
  let app: TestApp;
  const logs = new LogRing();
  const log = createLogger({ level: 'debug', journald: false, write: () => {}, tap: (entry) => logs.push(entry) });

  before(async () => {
    app = await startTestApp({ apiToken: TOKEN, log, logs, settings: { mqtt_url: MQTT_URL, mqtt_password: MQTT_PASSWORD } });
  });
  after(() => app.destroy());

  it('shows the user and host of mqtt_url but never its password, wherever the settings show', async () => {
    const masked = 'mqtt://cam:********@127.0.0.1:1';
    const config = await (await app.fetch('/config')).json() as Record<string, unknown>;
    assert.equal(config.mqtt_url, masked);
    assert.equal(config.mqtt_password, '********');
    const places: [string, string][] = [
      ['GET /config', JSON.stringify(config)],
      ['/memory_status', await (await app.fetch('/memory_status')).text()],
      ['the dashboard', await (await app.fetch('/', { headers: { Accept: 'text/html' } })).text()],
      ['the configuration page', await (await app.fetch('/config', { headers: { Accept: 'text/html' } })).text()],
      ['the live stream', await firstEvent(app, '/events', 'stats')],
      ['/metrics', await (await app.fetch('/metrics')).text()],
    ];
    for (const [where, text] of places) {
      assert.ok(!text.includes(URL_PASSWORD) && !text.includes(MQTT_PASSWORD), `${where} shows a password`);
    }
    const memory = JSON.parse(places[1][1]) as { config: { mqtt_url: string } };
    assert.equal(memory.config.mqtt_url, masked);
    assert.match(places[4][1], /"mqtt_url":"mqtt:\/\/cam:\*\*\*\*\*\*\*\*@127\.0\.0\.1:1"/);
    // The daemon connects with the real one.
    assert.equal(app.deps.settings.get().mqtt_url, MQTT_URL);
  });

  it('keeps a URL password set over HTTP when the masked value is posted back', async () => {
    const real = `https://viewer:${URL_PASSWORD}@pi.example:8443`;
    assert.equal((await app.fetch('/config', postJson({ public_url: real }))).status, 200);
    const shown = await (await app.fetch('/config')).json() as Record<string, unknown>;
    assert.equal(shown.public_url, 'https://viewer:********@pi.example:8443');
    // As the configuration page or a script does: everything shown, sent back with one change.
    const { public_url: echoed } = shown;
    const res = await app.fetch('/config', postJson({ public_url: echoed, compression_quality: 3 }));
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { config: { public_url: string } }).config.public_url, 'https://viewer:********@pi.example:8443');
    assert.equal(app.deps.settings.get().public_url, real);
    const file = JSON.parse(await readFile(join(app.dataDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(file, { public_url: real, compression_quality: 3 });
    // The masked operator-only URL is still refused, as any operator-only value is.
    assert.equal((await app.fetch('/config', postJson({ mqtt_url: shown.mqtt_url }))).status, 403);
  });

  it('logs neither the MQTT password nor a URL password, and no line the same for a right and a wrong guess', async () => {
    await until(() => logs.newest(1000).some((entry) => entry.message.startsWith('mqtt: ')), 'the refused connection logged');
    const wrong = 'Mqtt-Pa55word-x8';
    for (const word of [MQTT_PASSWORD, wrong, URL_PASSWORD, TOKEN, 'the-api-token-0123456780']) {
      assert.equal((await app.fetch(`/guess/${word}`)).status, 404);
    }
    const lines = logs.newest(1000).map((entry) => entry.message);
    const lineOf = (word: string): string => {
      const found = lines.filter((line) => line.startsWith(`GET /guess/${word} `));
      assert.equal(found.length, 1, lines.join('\n'));
      // The same form once the word and the time are left out.
      return found[0].split(word).join('WORD').replace(/ \d+ms /, ' Nms ');
    };
    assert.equal(lineOf(MQTT_PASSWORD), lineOf(wrong));
    assert.equal(lineOf(TOKEN), lineOf('the-api-token-0123456780'));
    assert.ok(lineOf(MQTT_PASSWORD).includes('WORD'), 'the line quotes what the client sent, right or wrong');
    // What the daemon says by itself never holds a credential.
    const own = lines.filter((line) => !line.startsWith('GET /guess/'));
    assert.ok(own.some((line) => line.startsWith('mqtt: ')), own.join('\n'));
    for (const secret of [MQTT_PASSWORD, URL_PASSWORD, TOKEN]) {
      assert.ok(!own.some((line) => line.includes(secret)), `a line shows ${secret}`);
    }
    // public_url was logged as updated above: with its password masked.
    assert.ok(own.some((line) => line.includes('https://viewer:***@pi.example:8443')), own.join('\n'));
  });

  it('cuts an overlong request path in its log line', async () => {
    const path = `/long/${'x'.repeat(8000)}`;
    assert.equal((await app.fetch(path)).status, 404);
    const [line] = logs.newest(1000).map((entry: LogEntry) => entry.message).filter((message) => message.startsWith('GET /long/'));
    assert.ok(Buffer.byteLength(line) < 2100, `${Buffer.byteLength(line)} bytes`);
    assert.match(line, /…\(\d+ more bytes\)$/);
  });
});

describe('operator-only parts of a setting in the runtime file', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'pir-secrets-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  it('never writes a display command posted back; removing it from the operator layer removes it at the next start', async () => {
    const command = ['/bin/true', '--url', `https://cam:${URL_PASSWORD}@panel.lan/show`];
    const operator = { displays: [{ ...PANEL, render: 'on_request', command }] } as unknown as SettingsInput;
    let app = await startTestApp({ settings: operator, dataDir: dir });
    try {
      const shown = await (await app.fetch('/config')).json() as { displays: { command?: string[] }[] };
      assert.deepEqual(shown.displays[0].command, ['/bin/true', '--url', 'https://cam:********@panel.lan/show']);
      // Sent back as shown, with a change: taken, and the command is the operator's still.
      const res = await app.fetch('/config', postJson({ displays: [{ ...shown.displays[0], dither: 'atkinson' }] }));
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(app.deps.settings.get().displays[0].command, command);
      assert.equal(app.deps.settings.get().displays[0].dither, 'atkinson');
      const file = await readFile(join(dir, 'settings.json'), 'utf8');
      assert.ok(!file.includes('"command"') && !file.includes(URL_PASSWORD), file);
      assert.equal((JSON.parse(file) as { displays: { dither: string }[] }).displays[0].dither, 'atkinson');
      await app.close();

      app = await startTestApp({ settings: { displays: [{ ...PANEL, render: 'on_request' }] } as unknown as SettingsInput, dataDir: dir });
      const [display] = app.deps.settings.get().displays;
      assert.equal(display.command, undefined);
      assert.equal(display.dither, 'atkinson');
      const listing = await (await app.fetch('/displays')).json() as { displays: { has_command: boolean }[] };
      assert.equal(listing.displays[0].has_command, false);
    } finally {
      await app.close();
    }
  });

  it('drops what only the operator may set from a runtime file an older version wrote, on disk too', async () => {
    const old = { displays: [{ ...PANEL, command: ['/bin/echo', 'old'] }], id_log_file: '/tmp/ids.log', compression_quality: 2 };
    await writeFile(join(dir, 'settings.json'), JSON.stringify(old));
    const app = await startTestApp({ dataDir: dir });
    try {
      const settings = app.deps.settings.get();
      assert.equal(settings.displays[0].command, undefined);
      assert.equal(settings.id_log_file, '');
      assert.equal(settings.compression_quality, 2);
      const file = await readFile(join(dir, 'settings.json'), 'utf8');
      assert.ok(!file.includes('"command"') && !file.includes('id_log_file'), file);
      assert.equal((JSON.parse(file) as { compression_quality: number }).compression_quality, 2);
    } finally {
      await app.close();
    }
  });
});

describe("a display command's output", () => {
  type Listing = { displays: { runs: number; last_run: { exit_code: number; output?: string[]; output_hidden?: true } | null }[] };

  async function appWithARun(apiToken?: string): Promise<{ app: TestApp; dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'pir-output-'));
    const script = await writeDisplayScript(dir);
    const settings = { displays: [{ ...PANEL, command: ['/bin/sh', script, '{id}'] }] } as unknown as SettingsInput;
    const app = await startTestApp({ settings, apiToken });
    const res = await app.fetch('/images', withToken({ method: 'POST', body: await cardPng(120, 90), headers: { 'Content-Type': 'image/png' } }));
    assert.equal(res.status, 201, await res.clone().text());
    await until(async () => ((await (await app.fetch('/displays', withToken())).json()) as Listing).displays[0].runs === 1, 'the run recorded');
    return { app, dir };
  }
  const lastRun = async (app: TestApp, path = '/displays', init?: RequestInit) => ((await (await app.fetch(path, init)).json()) as Listing).displays[0].last_run!;

  it('is shown only to a holder of the API token when one is set', async () => {
    const { app, dir } = await appWithARun(TOKEN);
    try {
      const open = await lastRun(app);
      assert.equal(open.exit_code, 0);
      assert.equal(open.output, undefined);
      assert.equal(open.output_hidden, true);
      const wrong = await lastRun(app, '/displays', { headers: { Authorization: 'Bearer not-the-token-0123456789' } });
      assert.equal(wrong.output, undefined);
      assert.deepEqual((await lastRun(app, '/displays', withToken())).output, ['line 1', 'line 2', 'line 3']);
      assert.deepEqual((await lastRun(app, `/displays?access_token=${TOKEN}`)).output, ['line 1', 'line 2', 'line 3']);
      // The dashboard renders for anyone; the output is not in it.
      const page = await (await app.fetch('/', { headers: { Accept: 'text/html' } })).text();
      assert.ok(page.includes('data-display="panel"') && !page.includes('line 2'));
    } finally {
      await app.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is shown to everybody when no token is set, since everybody is the operator then', async () => {
    const { app, dir } = await appWithARun();
    try {
      const run = await lastRun(app);
      assert.deepEqual(run.output, ['line 1', 'line 2', 'line 3']);
      assert.equal(run.output_hidden, undefined);
    } finally {
      await app.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
