import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Displays } from '../../../server/display/displays';
import { FrameStore } from '../../../server/display/frame-store';
import { validateDisplays, type DisplayProfile } from '../../../server/display/profiles';
import { silentLogger } from '../../../server/log';
import { ProcessingQueue } from '../../../server/memory/processing-queue';
import { ImageStore, type StoredImage } from '../../../server/storage/image-store';
import { scriptCalls, until, writeDisplayScript } from '../../helpers/display-script';
import { cardPng, decodeFrame } from '../../helpers/frames';

describe('Displays with a real display command', () => {
  let dir: string;
  let store: ImageStore;
  let script: string;
  let profiles: DisplayProfile[];
  let displays: Displays;

  async function addImage(source = 'cam'): Promise<StoredImage> {
    const file = join(await store.createTempDir(), 'in.png');
    await writeFile(file, await cardPng(60, 40));
    return store.add(file, {
      source, width: 60, height: 40, bytes: 1, format: 'png', compression_level: 6, received_at: new Date().toISOString(),
      captured_at: null, processing_ms: 1, original: { width: 60, height: 40, format: 'png', bytes: 1, orientation: 1 }, rotated: false, resized: false,
    });
  }

  function configure(fields: Record<string, unknown> = {}): DisplayProfile {
    const result = validateDisplays([{ name: 'panel', width: 40, height: 30, palette: 'spectra6', command: ['/bin/sh', script, '{frame}', '{image}', '{id}', '{source}', '{display}'], ...fields }]);
    assert.deepEqual({ ...result.fields }, {});
    profiles = result.profiles!;
    return profiles[0];
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-displays-'));
    store = await ImageStore.open(join(dir, 'data'));
    script = await writeDisplayScript(dir);
    profiles = [];
    displays = new Displays({ store, frames: new FrameStore(store, new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 8 })), profiles: () => profiles, log: silentLogger, dataDir: store.dataDir });
  });
  afterEach(async () => {
    await rm(join(dir, 'hold'), { force: true });
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the command with the frame, image, id, source and display', async () => {
    const profile = configure();
    const image = await addImage('porch');
    const outcome = await displays.show(profile, image);
    assert.equal(outcome.status, 'shown');
    const [[frame, png, id, source, display]] = await scriptCalls(dir);
    assert.equal(frame, join(store.dataDir, 'frames', 'panel', `${image.id}.png`));
    assert.equal(png, store.pngPath(image.id));
    assert.deepEqual([id, source, display], [image.id, 'porch', 'panel']);
    const decoded = await decodeFrame(await readFile(frame));
    assert.deepEqual([decoded.width, decoded.height, decoded.colourType], [40, 30, 3]);
    const record = await displays.record('panel');
    assert.equal(record.shown?.id, image.id);
    assert.equal(record.last_run?.exit_code, 0);
    assert.deepEqual(record.last_run?.output, ['line 1', 'line 2', 'line 3']);
  });

  it('shows only the newest waiting image while the panel is busy', async () => {
    const profile = configure();
    const [first, second, third, newest] = [await addImage(), await addImage(), await addImage(), await addImage()];
    await writeFile(join(dir, 'hold'), '');
    const shows = [displays.show(profile, first)];
    await until(() => existsSync(join(dir, 'started')), 'the first run');
    assert.equal(displays.running('panel')?.id, first.id);
    shows.push(displays.show(profile, second), displays.show(profile, third), displays.show(profile, newest));
    await unlink(join(dir, 'hold'));
    const outcomes = await Promise.all(shows);
    assert.deepEqual(outcomes.map((o) => o.status), ['shown', 'skipped', 'skipped', 'shown']);
    assert.deepEqual((await scriptCalls(dir)).map((args) => args[2]), [first.id, newest.id]);
    const record = await displays.record('panel');
    assert.equal(record.skipped, 2);
    assert.equal(record.shown?.id, newest.id);
  });

  it('kills the whole process group past command_timeout_s and records it', async () => {
    const profile = configure({ command_timeout_s: 1 });
    await writeFile(join(dir, 'hold'), '');
    const outcome = await displays.show(profile, await addImage());
    assert.equal(outcome.status, 'failed');
    const record = await displays.record('panel');
    assert.equal(record.last_run?.timed_out, true);
    assert.equal(record.last_run?.ok, false);
    assert.equal(record.failures, 1);
    assert.equal(record.shown, null);
    const pids = (await readFile(join(dir, 'pids'), 'utf8')).trim().split(' ').map(Number);
    for (const pid of pids) assert.equal(await isRunning(pid), false, `process ${pid} still runs`);
  });

  it('records a failing command: exit status, duration and the last 20 lines', async () => {
    configure();
    await writeFile(join(dir, 'status'), '7');
    process.env.LINES_OUT = '25';
    try {
      const outcome = await displays.show(profiles[0], await addImage());
      assert.equal(outcome.status, 'failed');
    } finally {
      delete process.env.LINES_OUT;
    }
    const saved = JSON.parse(await readFile(join(store.dataDir, 'displays', 'panel.json'), 'utf8'));
    assert.equal(saved.last_run.exit_code, 7);
    assert.equal(saved.failures, 1);
    assert.ok(Number.isInteger(saved.last_run.duration_ms));
    assert.deepEqual(saved.last_run.output, Array.from({ length: 20 }, (_, i) => `line ${i + 6}`));
  });
});

/** False once `pid` has exited; a zombie (dead, not yet reaped by a container's init) counts as exited. */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}
