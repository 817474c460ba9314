import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { automaticBudget, memoryBudget, readSystemMemory } from '../../../server/memory/memory-budget';
import { estimateWorkingSetMb } from '../../../server/memory/working-set';
import { DEFAULT_SETTINGS } from '../../../server/settings';

const MIB = 1024 * 1024;

describe('the memory budget', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'pir-budget-')); });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A fake root with these files, for readSystemMemory(root). */
  async function root(name: string, files: Record<string, string>): Promise<string> {
    const base = join(dir, name);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(base, path)), { recursive: true });
      await writeFile(join(base, path), text);
    }
    return base;
  }
  const meminfo = 'MemTotal:        3884476 kB\nMemFree:          100000 kB\nMemAvailable:    2097152 kB\n';

  it('is the unit\'s MemoryHigh under systemd (cgroup v2 memory.high, then memory.max)', async () => {
    const unit = await root('v2', {
      'proc/self/cgroup': '0::/system.slice/pi-image-receiver.service\n',
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
      'sys/fs/cgroup/system.slice/pi-image-receiver.service/memory.high': '268435456\n',
      'sys/fs/cgroup/system.slice/pi-image-receiver.service/memory.max': '335544320\n',
      'proc/meminfo': meminfo,
    });
    assert.deepEqual(automaticBudget(readSystemMemory(unit)), { mb: 256, origin: 'cgroup memory.high' });
    await writeFile(join(unit, 'sys/fs/cgroup/system.slice/pi-image-receiver.service/memory.high'), 'max\n');
    assert.deepEqual(automaticBudget(readSystemMemory(unit)), { mb: 320, origin: 'cgroup memory.max' });
  });

  it('reads cgroup v1\'s memory controller too, where "no limit" is a huge number', async () => {
    const v1 = await root('v1', {
      'proc/self/cgroup': '4:memory:/docker/abc\n1:cpu:/\n',
      'sys/fs/cgroup/memory/docker/abc/memory.soft_limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': String(512 * MIB),
      'proc/meminfo': meminfo,
    });
    assert.deepEqual(automaticBudget(readSystemMemory(v1)), { mb: 512, origin: 'cgroup memory.max' });
  });

  it('is half of MemAvailable at start without a cgroup limit', async () => {
    const bare = await root('bare', {
      'proc/self/cgroup': '0::/user.slice\n',
      'sys/fs/cgroup/cgroup.controllers': 'memory\n',
      'sys/fs/cgroup/user.slice/memory.high': 'max\n',
      'sys/fs/cgroup/user.slice/memory.max': 'max\n',
      'proc/meminfo': meminfo,
    });
    assert.deepEqual(automaticBudget(readSystemMemory(bare)), { mb: 1024, origin: '50% of MemAvailable at start' });
  });

  it('is memory_budget_mb when set, and none with enable_memory_optimization off', () => {
    const automatic = { mb: 256, origin: 'cgroup memory.high' };
    assert.deepEqual(memoryBudget({ enable_memory_optimization: true, memory_budget_mb: 0 }, automatic), automatic);
    assert.deepEqual(memoryBudget({ enable_memory_optimization: true, memory_budget_mb: 300 }, automatic), { mb: 300, origin: 'memory_budget_mb' });
    assert.equal(memoryBudget({ enable_memory_optimization: false, memory_budget_mb: 300 }, automatic), null);
  });
});

describe('estimateWorkingSetMb', () => {
  const estimate = (format: 'jpeg' | 'png' | 'webp' | 'heif', width: number, height: number) =>
    estimateWorkingSetMb({ format, width, height }, DEFAULT_SETTINGS);

  it('counts a JPEG at the scale shrink-on-load decodes it: 48 MP costs about what 12 MP does', () => {
    // 4056x3040 decodes at 1/2 (2028x1520) and 8000x6000 at 1/4 (2000x1500), both to ~2000x1500.
    assert.ok(Math.abs(estimate('jpeg', 8000, 6000) - estimate('jpeg', 4056, 3040)) < 2);
    assert.ok(estimate('png', 8000, 6000) > 1.5 * estimate('jpeg', 8000, 6000));
  });

  it('grows with the pixels decoded, and most for HEIF, which libheif decodes whole', () => {
    assert.ok(estimate('jpeg', 640, 480) < estimate('jpeg', 1920, 1080));
    assert.ok(estimate('jpeg', 1920, 1080) < estimate('jpeg', 4056, 3040));
    assert.ok(estimate('heif', 4056, 3040) > 10 * estimate('jpeg', 4056, 3040) - 100);
  });
});
