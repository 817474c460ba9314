import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UploadCost } from '../../../server/monitoring/upload-cost';

/** Spins until this process has used `ms` milliseconds of CPU, however busy the machine is. */
function spin(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const { user, system } = process.cpuUsage(start);
    if (user + system >= ms * 1000) return;
  }
}

describe('UploadCost', () => {
  it('charges each lap\'s CPU and time to its phase, once the upload is answered', async () => {
    const cost = new UploadCost();
    const clock = cost.start();
    spin(30);
    clock.lap('body');
    await new Promise((resolve) => setTimeout(resolve, 40));
    clock.lap('worker');
    assert.deepEqual(cost.phase('body'), { cpuSeconds: 0, seconds: 0 }, 'nothing counted before the answer');
    clock.answered(2);
    const body = cost.phase('body');
    const worker = cost.phase('worker');
    // CPU counts every thread of the process (the GC's too), so it may exceed the wall time.
    assert.ok(body.cpuSeconds >= 0.03 && body.seconds > 0, JSON.stringify(body));
    assert.ok(worker.seconds >= 0.035, JSON.stringify(worker));
    // Waiting is time, not CPU.
    assert.ok(worker.cpuSeconds < worker.seconds / 2, JSON.stringify(worker));
    assert.deepEqual(cost.phase('commit'), { cpuSeconds: 0, seconds: 0 });
    assert.equal(cost.storedImages, 2);
  });

  it('leaves out an upload that was refused: its clock is never answered', () => {
    const cost = new UploadCost();
    const refused = cost.start();
    spin(5);
    refused.lap('body');
    assert.deepEqual(cost.phase('body'), { cpuSeconds: 0, seconds: 0 });
    assert.equal(cost.storedImages, 0);
  });
});
