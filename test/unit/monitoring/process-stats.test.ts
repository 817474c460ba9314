import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ownResidentBytes, ProcessMemory, readPageSize, readProcFields } from '../../../server/proc-fields';
import { readProcessStats, readSystemStats } from '../../../server/monitoring/process-stats';

/** Spends at least `ms` of CPU time in this thread (bounded: gives up after 10 s of wall time). */
function burnCpu(ms: number): number {
  const start = process.cpuUsage();
  const deadline = Date.now() + 10_000;
  let spent = 0;
  let x = 0;
  while (spent < ms * 1000 && Date.now() < deadline) {
    for (let i = 0; i < 100_000; i++) x += Math.sqrt(i);
    const usage = process.cpuUsage(start);
    spent = usage.user + usage.system;
  }
  return x;
}

describe('readProcessStats', () => {
  it('reads RSS and VMS from the kernel, consistent with what Node reports', async () => {
    const stats = await readProcessStats();
    const nodeRss = process.memoryUsage().rss;
    assert.ok(stats.rss_bytes > 0);
    // Both read the same kernel figure a moment apart; allocations in between move it a little.
    assert.ok(stats.rss_bytes > nodeRss / 2 && stats.rss_bytes < nodeRss * 2, `${stats.rss_bytes} vs ${nodeRss}`);
    assert.ok(stats.vms_bytes !== null && stats.vms_bytes >= stats.rss_bytes, `VMS ${stats.vms_bytes} < RSS ${stats.rss_bytes}`);
    assert.ok(stats.heap_used_bytes > 0 && stats.heap_used_bytes <= stats.heap_total_bytes);
    assert.ok(stats.external_bytes > 0);
  });

  it('reports the CPU this process spent since the previous reading', async () => {
    await readProcessStats();
    burnCpu(150);
    const stats = await readProcessStats();
    assert.ok(stats.cpu_percent > 0, `cpu_percent ${stats.cpu_percent}`);
  });
});

describe('readSystemStats', () => {
  it('reads total and available memory and the load average', async () => {
    const stats = readSystemStats();
    assert.ok(stats.available_memory_bytes > 0);
    assert.ok(stats.available_memory_bytes <= stats.total_memory_bytes);
    assert.equal(stats.load_average.length, 3);
    assert.ok(stats.load_average.every((value) => value >= 0));
  });
});

describe('readProcFields', () => {
  it('reads "Key: N kB" lines in bytes and ignores the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-proc-'));
    try {
      const file = join(dir, 'status');
      await writeFile(file, 'Name:\tnode\nVmSize:\t  123456 kB\nVmRSS:\t    2048 kB\nThreads:\t11\n');
      assert.deepEqual(readProcFields(file), { VmSize: 123456 * 1024, VmRSS: 2048 * 1024 });
      assert.deepEqual(readProcFields(join(dir, 'missing')), {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ProcessMemory', () => {
  it('reads the page size the kernel maps: a power of two of at least 4 KiB', () => {
    const size = readPageSize();
    assert.ok(size !== undefined && size >= 4096 && (size & (size - 1)) === 0, `page size ${size}`);
  });

  it("reads this process's RSS as process.memoryUsage.rss() does", () => {
    const fromStatm = ownResidentBytes();
    const fromNode = process.memoryUsage.rss();
    assert.ok(Math.abs(fromStatm - fromNode) < 1024 * 1024, `statm ${fromStatm} B, node ${fromNode} B`);
  });

  it('reads what status calls RssAnon, follows memory as it is touched, and nothing once the process is gone', async () => {
    // A child that touches 64 MiB of fresh memory when told to, and says so.
    const child = spawn(process.execPath, ['-e', `
      let held;
      process.stdin.on('data', () => { held = Buffer.alloc(64 * 1024 * 1024, 1); process.stdout.write('touched'); });
      process.stdout.write('ready');
    `], { stdio: ['pipe', 'pipe', 'inherit'] });
    const reader = new ProcessMemory(child.pid!);
    try {
      await once(child.stdout, 'data');
      const mib = (bytes: number | undefined) => (bytes ?? NaN) / (1024 * 1024);
      const before = mib(reader.privateBytes());
      const fromStatus = mib(readProcFields(`/proc/${child.pid}/status`).RssAnon);
      // Read one after the other, so within a page or a few of each other.
      assert.ok(Math.abs(before - fromStatus) < 1, `statm ${before} MiB, status ${fromStatus} MiB`);
      child.stdin.write('go');
      await once(child.stdout, 'data');
      const after = mib(reader.privateBytes());
      assert.ok(after - before >= 63, `${before} MiB, then ${after} MiB after touching 64 MiB`);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    assert.equal(reader.privateBytes(), undefined);
    reader.close();
  });
});
