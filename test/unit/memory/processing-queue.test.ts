import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../../server/errors';
import { ProcessingQueue } from '../../../server/memory/processing-queue';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ProcessingQueue', () => {
  it('runs at most `concurrency` tasks at once, in arrival order', async () => {
    const queue = new ProcessingQueue({ concurrency: () => 2, maxWaiting: () => 10 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const tasks = Array.from({ length: 8 }, (_, i) => queue.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await tick();
      running--;
      return i;
    }));
    assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
    await queue.idle();
    assert.equal(queue.inFlight + queue.queued, 0);
  });

  it('refuses a task beyond the waiting bound with busy and Retry-After, and runs none of it', async () => {
    const queue = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 1 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const held = [queue.run(() => gate), queue.run(() => gate)];
    assert.equal(queue.isFull, true);
    let ran = false;
    await assert.rejects(queue.run(async () => { ran = true; }), (err: AppError) =>
      err.code === 'busy' && Number(err.headers?.['Retry-After']) >= 1);
    assert.equal(ran, false);
    release();
    await Promise.all(held);
    assert.equal(queue.isFull, false);
  });

  it('frees the slot when a task fails', async () => {
    const queue = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 0 });
    await assert.rejects(queue.run(async () => { throw new Error('boom'); }), /boom/);
    assert.equal(await queue.run(async () => 'next'), 'next');
  });
});
