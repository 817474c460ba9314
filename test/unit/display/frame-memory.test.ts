import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { frameWorkingSetMb, MAX_PANEL, panelsOverBudget } from '../../../server/display/frame-memory';
import { FrameStore } from '../../../server/display/frame-store';
import { DISPLAY_PRESETS, validateDisplays } from '../../../server/display/profiles';
import { ProcessingQueue } from '../../../server/memory/processing-queue';
import { ImageStore } from '../../../server/storage/image-store';
import { cardPng } from '../../helpers/frames';

const panel = (width: number, height: number) => ({ name: 'panel', width, height, palette: 'spectra6' });

describe('the frame memory estimate and the largest panel', () => {
  it('estimates a frame from the panel and the stored image it is made from', () => {
    const largest = frameWorkingSetMb(MAX_PANEL);
    assert.ok(largest > 90 && largest < 100, `4096x4096: ${largest} MB`);
    assert.ok(frameWorkingSetMb({ width: 1600, height: 1200 }) < 25);
    // A 48 MP stored image decodes as a PNG: about 36 MB more than the panel alone.
    const fromLarge = frameWorkingSetMb({ width: 1600, height: 1200 }, { width: 8000, height: 6000 });
    assert.ok(fromLarge - frameWorkingSetMb({ width: 1600, height: 1200 }) >= 35);
  });

  it('refuses a panel past 4096x4096 pixels, saying what it needs and the largest of its shape that fits', () => {
    const { profiles, fields } = validateDisplays([panel(8192, 8192), panel(8192, 4096)].map((p, i) => ({ ...p, name: `p${i}` })));
    assert.equal(profiles, undefined);
    assert.match(fields['displays[0]'], /^displays\[0\]: a 8192x8192 frame needs about 3\d\d MB to render, more than the 99 MB a frame may take on any device .*; the largest panel of this shape that fits is 4096x4096$/);
    assert.match(fields['displays[1]'], /a 8192x4096 frame .* the largest panel of this shape that fits is 5792x2896$/);
    // ...which is then accepted, as is the largest square.
    assert.deepEqual({ ...validateDisplays([panel(5792, 2896)]).fields }, {});
    assert.deepEqual({ ...validateDisplays([panel(4096, 4096)]).fields }, {});
  });

  it('accepts every real panel: the presets, 13.3" either way round, 31.5" 2560x1440', () => {
    const real = [...Object.keys(DISPLAY_PRESETS).map((preset, i) => ({ name: `p${i}`, preset })),
      { ...panel(1600, 1200), name: 'a' }, { ...panel(1200, 1600), name: 'b' }, { ...panel(2560, 1440), name: 'c' }];
    assert.deepEqual({ ...validateDisplays(real).fields }, {});
  });

  it('checks the panels against what the memory budget leaves beside the daemon at rest', () => {
    const square = { width: 4096, height: 4096 };
    assert.equal(panelsOverBudget([square], null), undefined, 'no budget: the cap alone');
    assert.equal(panelsOverBudget([square], { mb: 256, origin: 'cgroup memory.high' }), undefined, 'the unit\'s budget holds the largest panel');
    const fields = panelsOverBudget([{ width: 1600, height: 1200 }, square], { mb: 160, origin: 'memory_budget_mb' });
    assert.deepEqual(Object.keys(fields ?? {}), ['displays[1]']);
    const reason = fields!['displays[1]'];
    assert.match(reason, /a 4096x4096 frame needs about 99 MB to render, more than the memory budget of 160 MB \(memory_budget_mb\) allows beside the daemon at rest/);
    const [, width, height] = /fits is (\d+)x(\d+)$/.exec(reason)!.map(Number);
    assert.equal(width, height);
    assert.equal(panelsOverBudget([{ width, height }], { mb: 160, origin: 'memory_budget_mb' }), undefined, 'the size it proposes fits');
    assert.match(panelsOverBudget([{ width: 800, height: 480 }], { mb: 80, origin: 'memory_budget_mb' })!['displays[0]'], /no panel fits: raise the memory budget/);
  });
});

describe('FrameStore weighs each frame in the processing queue', () => {
  let dir: string;
  let store: ImageStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-frame-memory-'));
    store = await ImageStore.open(join(dir, 'data'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('renders a frame only once the uploads in flight leave room for it in the budget', async () => {
    const file = join(await store.createTempDir(), 'in.png');
    await writeFile(file, await cardPng(60, 40));
    const image = await store.add(file, {
      source: 'cam', width: 60, height: 40, bytes: 1, format: 'png', compression_level: 6, received_at: new Date().toISOString(),
      captured_at: null, processing_ms: 1, original: { width: 60, height: 40, format: 'png', bytes: 1, orientation: 1 }, rotated: false, resized: false,
    });
    const profile = validateDisplays([panel(400, 300)]).profiles![0];
    const processing = new ProcessingQueue({
      concurrency: () => 2, maxWaiting: () => 8, memory: { budget: () => ({ mb: 100, origin: 'test' }), rssMb: () => 0 },
    });
    // An upload holding 95 of the 100 MB: a frame of about 11 MB must wait for it, though a slot is free.
    let release!: () => void;
    const upload = processing.run(() => new Promise<void>((resolve) => { release = resolve; }), 95);
    const frames = new FrameStore(store, processing);
    const frame = frames.get(profile, image);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const path = frames.framePath('panel', image.id);
    assert.equal(processing.queued, 1, 'the frame waits in the processing queue');
    assert.ok(!existsSync(path), 'no frame rendered while the upload holds the budget');
    release();
    await upload;
    assert.equal((await frame).path, path);
    assert.ok(existsSync(path));
  });
});
