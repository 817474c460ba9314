import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
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
});
