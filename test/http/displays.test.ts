import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { SettingsInput } from '../../server/settings';
import { scriptCalls, until, writeDisplayScript } from '../helpers/display-script';
import { cardPng, colourCounts, decodeFrame } from '../helpers/frames';
import { filesIn, form, jsonPost, postImage, startTestApp, type TestApp } from '../helpers/test-app';

const PANEL = { name: 'panel', width: 48, height: 64, palette: 'spectra6' };

async function upload(app: TestApp, query = ''): Promise<string> {
  const res = await postImage(app, await cardPng(120, 90), query, 'image/png');
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { images: { id: string }[] }).images[0].id;
}

describe('display profiles, frames and the original upload fields', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ settings: { displays: [{ ...PANEL, render: 'on_request' }] } as unknown as SettingsInput });
  });
  after(() => app.destroy());

  it('refuses a bad profile with a reason per field, and changes nothing', async () => {
    const res = await app.fetch('/config', jsonPost({ displays: [{ name: 'x', width: 0, palette: 'cmyk' }] }));
    assert.equal(res.status, 400);
    const body = await res.json() as { error: { code: string; fields: Record<string, string> } };
    assert.equal(body.error.code, 'invalid_settings');
    assert.deepEqual(Object.keys(body.error.fields).sort(), ['displays[0].height', 'displays[0].palette', 'displays[0].width']);
    assert.equal(app.deps.settings.get().displays[0].name, 'panel');
  });

  it('refuses a command over POST /config, naming it, and takes the rest', async () => {
    const denied = await app.fetch('/config', jsonPost({ displays: [{ ...PANEL, command: ['/bin/true'] }] }));
    assert.equal(denied.status, 403);
    assert.deepEqual(Object.keys(((await denied.json()) as { error: { fields: object } }).error.fields), ['displays[0].command']);
    const ok = await app.fetch('/config', jsonPost({ displays: [{ ...PANEL, preset: 'inky-impression-7in3', width: 48, height: 64, render: 'on_request', dither: 'atkinson' }] }));
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(app.deps.settings.get().displays[0].dither, 'atkinson');
  });

  it('answers a frame: exact size, every pixel in the palette; 404 for an unknown display or id', async () => {
    const id = await upload(app);
    const res = await app.fetch(`/images/${id}/frame?display=panel`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const frame = await decodeFrame(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([frame.width, frame.height, frame.colourType], [48, 64, 3]);
    const allowed = new Set(['0,0,0', '255,255,255', '255,255,0', '255,0,0', '0,0,255', '0,255,0']);
    for (const colour of colourCounts(frame.rgb).keys()) assert.ok(allowed.has(colour), colour);
    assert.equal((await app.fetch(`/images/${id}/frame?display=nope`)).status, 404);
    assert.equal((await app.fetch('/images/20200101T000000000-0000-abcd/frame?display=panel')).status, 404);
  });

  it('keeps rotation_mode and auto_zoom in the record; the frame follows them', async () => {
    const id = await upload(app, '?rotation_mode=landscape&auto_zoom=false');
    const meta = await (await app.fetch(`/images/${id}/meta`)).json() as { options?: object };
    assert.deepEqual(meta.options, { rotation_mode: 'landscape', auto_zoom: false });
    const frame = await decodeFrame(Buffer.from(await (await app.fetch(`/images/${id}/frame?display=panel`)).arrayBuffer()));
    // Landscape on a portrait panel turns the 4:3 card onto 64x48: it fits exactly, no padding.
    assert.equal(colourCounts(frame.rgb).get('255,255,255') ?? 0, 0);
    const res = await app.fetch('/upload', { method: 'POST', body: form([await cardPng(40, 30)], 'file', { rotation_mode: 'portrait', auto_zoom: 'true' }) });
    assert.equal(res.status, 200);
    const [image] = ((await res.json()) as { images: { options?: object }[] }).images;
    assert.deepEqual(image.options, { rotation_mode: 'portrait', auto_zoom: true });
  });

  it('refuses an invalid rotation_mode or auto_zoom with 400 and stores nothing', async () => {
    const before = await filesIn(app.dataDir);
    const bad = await postImage(app, await cardPng(40, 30), '?rotation_mode=sideways', 'image/png');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_parameter');
    const badForm = await app.fetch('/upload', { method: 'POST', body: form([await cardPng(40, 30)], 'file', { auto_zoom: 'maybe' }) });
    assert.equal(badForm.status, 400);
    assert.deepEqual((await filesIn(app.dataDir)).filter((f) => !f.startsWith('consumers/')), before.filter((f) => !f.startsWith('consumers/')));
  });

  it('removes the frames with their image', async () => {
    const id = await upload(app);
    assert.equal((await app.fetch(`/images/${id}/frame?display=panel`)).status, 200);
    const path = join(app.dataDir, 'frames', 'panel', `${id}.png`);
    assert.ok(existsSync(path));
    assert.equal((await app.fetch(`/images/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal(existsSync(path), false);
  });
});

describe('render: on_store', () => {
  it('makes the frame after the upload, by the consumer, with no request for it', async () => {
    const app = await startTestApp({ settings: { displays: [PANEL] } as unknown as SettingsInput });
    try {
      const id = await upload(app);
      const path = join(app.dataDir, 'frames', 'panel', `${id}.png`);
      await until(() => existsSync(path), 'the frame made on store');
      const frame = await decodeFrame(await readFile(path));
      assert.deepEqual([frame.width, frame.height], [48, 64]);
      const status = await (await app.fetch('/displays')).json() as { displays: { shown: { id: string } | null; has_command: boolean }[] };
      assert.equal(status.displays[0].has_command, false);
    } finally {
      await app.destroy();
    }
  });
});

describe('the display command, run by its consumer', () => {
  let dir: string;
  let app: TestApp;
  let settings: SettingsInput;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-display-cmd-'));
    const script = await writeDisplayScript(dir);
    settings = { displays: [{ ...PANEL, command: ['/bin/sh', script, '{frame}', '{image}', '{id}', '{source}', '{display}'] }] } as unknown as SettingsInput;
    app = await startTestApp({ settings });
  });
  afterEach(async () => {
    await rm(join(dir, 'hold'), { force: true });
    await app.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows each new image with the right paths; GET /displays tells; POST show shows one again', async () => {
    const id = await upload(app, '?source=porch');
    await until(async () => (await scriptCalls(dir)).length === 1, 'the first run');
    const [[frame, png, calledId, source, display]] = await scriptCalls(dir);
    assert.equal(frame, join(app.dataDir, 'frames', 'panel', `${id}.png`));
    assert.equal(png, join(app.dataDir, 'images', `${id}.png`));
    assert.deepEqual([calledId, source, display], [id, 'porch', 'panel']);
    type Listing = { displays: { name: string; has_command: boolean; shown: { id: string; frame_url: string } | null; last_run: { exit_code: number } | null; runs: number }[] };
    await until(async () => ((await (await app.fetch('/displays')).json()) as Listing).displays[0].runs === 1, 'the run recorded');
    const [state] = ((await (await app.fetch('/displays')).json()) as Listing).displays;
    assert.equal(state.shown?.id, id, JSON.stringify(state));
    assert.equal(state.last_run?.exit_code, 0);
    assert.equal(state.has_command, true);
    assert.equal((await app.fetch(state.shown!.frame_url)).status, 200);

    const other = await upload(app);
    await until(async () => (await scriptCalls(dir)).length === 2, 'the second run');
    const again = await app.fetch('/displays/panel/show', jsonPost({ id }));
    assert.equal(again.status, 202);
    await until(async () => (await scriptCalls(dir)).length === 3, 'the run asked for');
    assert.deepEqual((await scriptCalls(dir)).map((args) => args[2]), [id, other, id]);
    assert.equal((await app.fetch('/displays/nope/show', jsonPost({ id }))).status, 404);
    assert.equal((await app.fetch('/displays/panel/show', jsonPost({ id: '20200101T000000000-0000-abcd' }))).status, 404);
  });

  it('never holds an upload up while the panel is busy, and shows the newest next', async () => {
    await writeFile(join(dir, 'hold'), '');
    const first = await upload(app);
    await until(() => existsSync(join(dir, 'started')), 'the first run');
    // Uploads are answered while the command runs.
    const passed = [await upload(app), await upload(app)];
    const newest = await upload(app);
    await unlink(join(dir, 'hold'));
    type Counts = { displays: { runs: number; skipped: number; pending: number }[] };
    const counts = async () => ((await (await app.fetch('/displays')).json()) as Counts).displays[0];
    // The consumer's cursor (and its skipped count) moves just after the run is recorded.
    await until(async () => { const c = await counts(); return c.runs === 2 && c.pending === 0; }, 'the newest shown');
    assert.deepEqual((await scriptCalls(dir)).map((args) => args[2]), [first, newest]);
    assert.equal((await counts()).skipped, passed.length);
  });

  it('after a restart shows the images it had not shown', async () => {
    await writeFile(join(dir, 'hold'), '');
    const first = await upload(app);
    await until(() => existsSync(join(dir, 'started')), 'the first run');
    const waiting = await upload(app);
    // Stopped mid-run: the run is aborted, so neither image counts as shown.
    await app.close();
    await unlink(join(dir, 'hold'));
    app = await startTestApp({ settings, dataDir: app.dataDir });
    await until(async () => (await scriptCalls(dir)).some((args) => args[2] === waiting), 'the resumed run');
    assert.deepEqual((await scriptCalls(dir)).map((args) => args[2]), [first, waiting]);
    const shown = async () => JSON.parse(await readFile(join(app.dataDir, 'displays', 'panel.json'), 'utf8').catch(() => '{}')).shown?.id;
    await until(async () => (await shown()) === waiting, 'recorded as shown');
  });
});

describe('frame previews: a profile tried on a stored image, never stored', () => {
  let app: TestApp;
  let id: string;
  before(async () => {
    app = await startTestApp({ settings: { displays: [{ ...PANEL, render: 'on_request' }] } as unknown as SettingsInput });
    id = await upload(app);
  });
  after(() => app.destroy());

  const preview = (query: string) => app.fetch(`/images/${id}/frame?preview=1&${query}`);

  it('renders the display with the query\'s fields over its own, stores nothing and asks not to be cached', async () => {
    const res = await preview('display=panel&palette=bw&width=30&height=20&dither=none');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const frame = await decodeFrame(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([frame.width, frame.height, frame.colourType], [30, 20, 3]);
    assert.deepEqual([...colourCounts(frame.rgb).keys()].sort(), ['0,0,0', '255,255,255']);
    assert.deepEqual(await filesIn(join(app.dataDir, 'frames', 'panel')).catch(() => []), [], 'no frame was written');
    // The display's own profile is unchanged: its stored frame is still 48 x 64 in six colours.
    const stored = await decodeFrame(Buffer.from(await (await app.fetch(`/images/${id}/frame?display=panel`)).arrayBuffer()));
    assert.deepEqual([stored.width, stored.height, stored.palette.length], [48, 64, 6]);
  });

  it('follows each field: saturation changes the pixels, a custom palette is the frame\'s palette', async () => {
    const dull = Buffer.from(await (await preview('saturation=0')).arrayBuffer());
    const vivid = Buffer.from(await (await preview('saturation=2')).arrayBuffer());
    assert.notDeepEqual((await decodeFrame(dull)).rgb, (await decodeFrame(vivid)).rgb);
    const custom = await decodeFrame(Buffer.from(await (await preview(`palette=${encodeURIComponent('#000000,#ff0000,#ffffff')}`)).arrayBuffer()));
    assert.deepEqual(custom.palette, [[0, 0, 0], [255, 0, 0], [255, 255, 255]]);
  });

  it('previews a panel not saved yet from its fields alone, when no display is named', async () => {
    await app.deps.settings.update({ displays: [{ ...PANEL, render: 'on_request' }, { ...PANEL, name: 'other', render: 'on_request' }] } as unknown as SettingsInput);
    const res = await preview('width=16&height=12&palette=gray4');
    assert.equal(res.status, 200);
    const frame = await decodeFrame(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([frame.width, frame.height, frame.palette.length], [16, 12, 4]);
    const unsized = await preview('palette=bw');
    assert.equal(unsized.status, 400);
    assert.deepEqual(Object.keys(((await unsized.json()) as { error: { fields: object } }).error.fields).sort(), ['display.height', 'display.width']);
  });

  it('refuses bad values with 400 naming each, an unknown display with 404, and fields without preview=1', async () => {
    const bad = await preview('display=panel&saturation=9&dither=sparkle&background=red&width=x');
    assert.equal(bad.status, 400);
    const body = await bad.json() as { error: { code: string; fields: Record<string, string> } };
    assert.equal(body.error.code, 'invalid_parameter');
    assert.deepEqual(Object.keys(body.error.fields).sort(), ['background', 'dither', 'saturation', 'width']);
    assert.match(body.error.fields.saturation, /^Expected number between 0 and 4 for saturation but received 9/);
    const huge = await preview('display=panel&width=8000&height=8000');
    assert.equal(huge.status, 400);
    assert.match(((await huge.json()) as { error: { message: string } }).error.message, /largest panel of this shape that fits is 4096x4096/);
    assert.equal((await preview('display=nope')).status, 404);
    const stray = await app.fetch(`/images/${id}/frame?display=panel&saturation=2`);
    assert.equal(stray.status, 400);
    assert.equal((await app.fetch(`/images/${id}/frame?display=panel&preview=yes`)).status, 400);
  });

  it('is weighed against the memory budget like any frame', async () => {
    const tight = await startTestApp({ settings: { displays: [{ name: 'tiny', width: 8, height: 8, palette: 'bw', render: 'on_request' }] } as unknown as SettingsInput });
    try {
      const res = await postImage(tight, await cardPng(2000, 2000), '', 'image/png');
      const large = ((await res.json()) as { images: { id: string }[] }).images[0].id;
      // Room for the tiny panel's own part beside the daemon at rest, not for decoding the image too.
      await tight.deps.settings.update({ memory_budget_mb: 101 });
      const refused = await tight.fetch(`/images/${large}/frame?display=tiny&preview=1&dither=none`);
      assert.equal(refused.status, 413);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'too_many_pixels');
    } finally {
      await tight.destroy();
    }
  });
});
