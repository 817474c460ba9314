import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DisplayProfile } from '../../server/display/profiles';
import { startTestApp } from '../helpers/test-app';

const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
const panel = (width: number, height: number) => ({ name: 'wall', width, height, palette: 'spectra6' });

interface Refusal { error: { code: string; message: string; fields: Record<string, string> } }

describe('a display panel whose frame memory cannot hold is refused when it is configured', () => {
  it('POST /config refuses a 8192x8192 panel, says why, and persists nothing', async () => {
    const app = await startTestApp();
    try {
      const res = await app.fetch('/config', post({ displays: [panel(8192, 8192)] }));
      assert.equal(res.status, 400);
      const { error } = await res.json() as Refusal;
      assert.equal(error.code, 'invalid_settings');
      assert.match(error.fields['displays[0]'], /a 8192x8192 frame needs about \d+ MB to render, .* the largest panel of this shape that fits is 4096x4096/);
      assert.ok(!(await readdir(app.dataDir)).includes('settings.json'), 'nothing persisted');
      assert.deepEqual(app.deps.settings.get().displays, []);
      assert.equal((await app.fetch('/config', post({ displays: [panel(4096, 4096)] }))).status, 200);
    } finally {
      await app.destroy();
    }
  });

  it('under a memory budget, refuses a panel or a budget that would leave a frame no room', async () => {
    const app = await startTestApp({ settings: { memory_budget_mb: 160 } });
    try {
      const square = await app.fetch('/config', post({ displays: [panel(4096, 4096)] }));
      assert.equal(square.status, 400);
      const { error } = await square.json() as Refusal;
      assert.match(error.fields['displays[0]'], /more than the memory budget of 160 MB \(memory_budget_mb\) allows beside the daemon at rest/);
      assert.equal((await app.fetch('/config', post({ displays: [panel(1600, 1200)] }))).status, 200);
      // Lowering the budget under a configured panel is refused the same way, naming the panel.
      const lower = await app.fetch('/config', post({ memory_budget_mb: 95 }));
      assert.equal(lower.status, 400);
      assert.match((await lower.json() as Refusal).error.fields['displays[0]'], /a 1600x1200 frame .* memory budget of 95 MB/);
      assert.equal(app.deps.settings.get().memory_budget_mb, 160);
      // With the memory optimisation off there is no budget: the cap alone applies.
      assert.equal((await app.fetch('/config', post({ enable_memory_optimization: false, displays: [panel(4096, 4096)] }))).status, 200);
      assert.equal((await app.fetch('/config', post({ enable_memory_optimization: true }))).status, 400);
    } finally {
      await app.destroy();
    }
  });

  it('refuses to start with an operator\'s panel the budget cannot hold', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pir-display-memory-'));
    try {
      await assert.rejects(startTestApp({ dataDir, settings: { memory_budget_mb: 110, displays: [panel(2560, 1440) as unknown as DisplayProfile] } }), (err: Refusal['error']) => {
        assert.equal(err.code, 'invalid_settings');
        assert.match(err.fields['displays[0]'], /a 2560x1440 frame needs about \d+ MB to render, more than the memory budget of 110 MB/);
        return true;
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
