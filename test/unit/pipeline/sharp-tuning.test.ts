import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { processingConcurrency, tuneSharp } from '../../../server/pipeline/sharp-tuning';
import { DEFAULT_SETTINGS } from '../../../server/settings';

const ON = { ...DEFAULT_SETTINGS, enable_memory_optimization: true };
const OFF = { ...DEFAULT_SETTINGS, enable_memory_optimization: false };

describe('tuneSharp and processingConcurrency', () => {
  after(() => tuneSharp(DEFAULT_SETTINGS));

  it('with memory optimization on: at most one image per core (the memory budget admits them), one libvips thread, no operation cache', () => {
    tuneSharp(ON);
    assert.equal(sharp.concurrency(), 1);
    const { memory, files, items } = sharp.cache();
    assert.deepEqual([memory.max, files.max, items.max], [0, 0, 0]);
    assert.equal(processingConcurrency(ON), availableParallelism());
  });

  it('with it off: one image and one libvips thread per core, and the default cache', () => {
    tuneSharp(OFF);
    // Not sharp's own default, which is 1 thread under glibc without MALLOC_ARENA_MAX.
    assert.equal(sharp.concurrency(), availableParallelism());
    const { memory, files, items } = sharp.cache();
    assert.deepEqual([memory.max, files.max, items.max], [50, 20, 100]);
    assert.equal(processingConcurrency(OFF), availableParallelism());
  });

  it('switches back and forth, as POST /config does at runtime', () => {
    tuneSharp(OFF);
    tuneSharp(ON);
    assert.equal(sharp.concurrency(), 1);
    assert.equal(sharp.cache().items.max, 0);
  });

  it('tunes sharp when it is first loaded, for settings given before: the daemon loads it on first use', () => {
    const tuning = join(__dirname, '..', '..', '..', 'server', 'pipeline', 'sharp-tuning.js');
    const settings = join(__dirname, '..', '..', '..', 'server', 'settings.js');
    const script = `const t = require(${JSON.stringify(tuning)}); const { DEFAULT_SETTINGS } = require(${JSON.stringify(settings)});
      t.tuneSharp({ ...DEFAULT_SETTINGS, enable_memory_optimization: true });
      const loadedBefore = t.loadedSharp() !== undefined;
      const readings = t.libvipsReadings();
      const sharp = t.loadSharp();
      process.stdout.write(JSON.stringify({ loadedBefore, readings: readings.cache.items.max, threads: sharp.concurrency(), items: sharp.cache().items.max, loadedAfter: t.loadedSharp() === sharp }));`;
    const seen = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as Record<string, unknown>;
    assert.deepEqual(seen, { loadedBefore: false, readings: 0, threads: 1, items: 0, loadedAfter: true });
  });
});
