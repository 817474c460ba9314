import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../../server/errors';
import { admits } from '../../../server/memory/memory-admission';
import { ProcessingQueue } from '../../../server/memory/processing-queue';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A queue under a memory budget with a fixed RSS at rest, and tasks that end when told to. */
function harness(options: { budgetMb: number | null; baselineMb?: number; concurrency?: number }) {
  const queue = new ProcessingQueue({
    concurrency: () => options.concurrency ?? 4,
    maxWaiting: () => 100,
    memory: { budget: () => (options.budgetMb === null ? null : { mb: options.budgetMb, origin: 'test' }), rssMb: () => options.baselineMb ?? 50 },
  });
  const running = new Set<string>();
  const started: string[] = [];
  let peak = 0;
  const releases = new Map<string, () => void>();
  /** Queues a task named `name` with the estimate `costMb`; it runs until `finish(name)`. */
  const submit = (name: string, costMb: number): Promise<string> => queue.run(async () => {
    running.add(name);
    started.push(name);
    peak = Math.max(peak, running.size);
    await new Promise<void>((resolve) => releases.set(name, resolve));
    running.delete(name);
    return name;
  }, costMb);
  const finish = async (name: string): Promise<void> => {
    releases.get(name)!();
    await tick();
    await tick();
  };
  return { queue, running, started, submit, finish, peak: () => peak };
}

describe('ProcessingQueue under a memory budget', () => {
  it('with a budget for one image, never runs two at once, and runs all in arrival order', async () => {
    // 50 at rest + 40 + 40 = 130 > 100: room for one 40 MiB image only.
    const h = harness({ budgetMb: 100 });
    const done = ['a', 'b', 'c', 'd'].map((name) => h.submit(name, 40));
    await tick();
    for (const name of ['a', 'b', 'c', 'd']) {
      assert.deepEqual([...h.running], [name]);
      assert.equal(h.queue.inFlightMb, 40);
      await h.finish(name);
    }
    assert.deepEqual(await Promise.all(done), ['a', 'b', 'c', 'd']);
    assert.equal(h.peak(), 1);
    assert.deepEqual(h.started, ['a', 'b', 'c', 'd']);
  });

  it('with room for two, runs two at once and no third', async () => {
    // 50 + 40 + 40 = 130 <= 140 < 170.
    const h = harness({ budgetMb: 140 });
    const done = ['a', 'b', 'c', 'd'].map((name) => h.submit(name, 40));
    await tick();
    assert.deepEqual([...h.running], ['a', 'b']);
    assert.equal(h.queue.queued, 2);
    // What /memory_status shows of it.
    assert.deepEqual(h.queue.memory, { budget: { mb: 140, origin: 'test' }, baselineMb: 50, inFlightMb: 80 });
    await h.finish('a');
    assert.deepEqual([...h.running].sort(), ['b', 'c']);
    await h.finish('b');
    await h.finish('c');
    await h.finish('d');
    await Promise.all(done);
    assert.equal(h.peak(), 2);
  });

  it('refuses, before it queues, an image that could not fit in the budget beside the daemon at rest, and runs the others', async () => {
    const queue = new ProcessingQueue({
      concurrency: () => 4, maxWaiting: () => 10,
      memory: { budget: () => ({ mb: 256, origin: 'test' }), rssMb: () => 60, restMb: 90 },
    });
    await assert.rejects(queue.run(async () => 'huge', 167), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'too_many_pixels');
      assert.equal(err.status, 413);
      assert.match(err.message, /needs about 167 MB, more than the memory budget of 256 MB \(test\) leaves beside the daemon at rest \(about 90 MB\)/);
      return true;
    });
    assert.equal(queue.queued + queue.inFlight, 0);
    // The largest that fits, alone, still runs; and without a budget nothing is refused.
    assert.equal(await queue.run(async () => 'fits', 166), 'fits');
    const unbudgeted = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 1, memory: { budget: () => null, rssMb: () => 60, restMb: 90 } });
    assert.equal(await unbudgeted.run(async () => 'any', 10_000), 'any');
  });

  it('never runs more than one image per core, however large the budget', async () => {
    const h = harness({ budgetMb: 100_000, concurrency: 2 });
    const done = ['a', 'b', 'c'].map((name) => h.submit(name, 1));
    await tick();
    assert.deepEqual([...h.running], ['a', 'b']);
    for (const name of ['a', 'b', 'c']) await h.finish(name);
    await Promise.all(done);
    assert.equal(h.peak(), 2);
  });

  it('without a budget (enable_memory_optimization off), admits by cores alone', async () => {
    const h = harness({ budgetMb: null, concurrency: 3 });
    const done = ['a', 'b', 'c', 'd'].map((name) => h.submit(name, 10_000));
    await tick();
    assert.deepEqual([...h.running], ['a', 'b', 'c']);
    for (const name of ['a', 'b', 'c', 'd']) await h.finish(name);
    await Promise.all(done);
  });

  it('takes the RSS with nothing in flight as the baseline, read again each time the queue empties', async () => {
    let rss = 50;
    const queue = new ProcessingQueue({ concurrency: () => 4, maxWaiting: () => 10, memory: { budget: () => ({ mb: 140, origin: 'test' }), rssMb: () => rss } });
    const gates: Array<() => void> = [];
    const hold = () => new Promise<void>((resolve) => gates.push(resolve));
    // At rest 50: 50 + 40 + 40 fits.
    const first = [queue.run(hold, 40), queue.run(hold, 40)];
    await tick();
    assert.equal(queue.inFlight, 2);
    gates.splice(0).forEach((open) => open());
    await Promise.all(first);
    // At rest 70 (say, after a burst): 70 + 40 + 40 does not.
    rss = 70;
    const second = [queue.run(hold, 40), queue.run(hold, 40)];
    await tick();
    assert.equal(queue.inFlight, 1);
    gates.splice(0).forEach((open) => open());
    await tick();
    gates.splice(0).forEach((open) => open());
    await Promise.all(second);
  });

  it('lets no newcomer pass a waiting image, even one that would fit', async () => {
    const h = harness({ budgetMb: 140 });
    const a = h.submit('a', 40);
    const big = h.submit('big', 60);
    const tiny = h.submit('tiny', 1);
    await tick();
    assert.deepEqual([...h.running], ['a']);
    assert.equal(h.queue.queued, 2);
    await h.finish('a');
    assert.deepEqual([...h.running].sort(), ['big', 'tiny']);
    await h.finish('big');
    await h.finish('tiny');
    await Promise.all([a, big, tiny]);
  });
});

describe('admits', () => {
  it('states the rule: alone always; beside others within cores and budget', () => {
    const budget = { budgetMb: 100, baselineMb: 50, inFlightMb: 30 };
    assert.equal(admits({ running: 0, concurrency: 4, budget, costMb: 1000 }), true);
    assert.equal(admits({ running: 1, concurrency: 4, budget, costMb: 20 }), true);
    assert.equal(admits({ running: 1, concurrency: 4, budget, costMb: 21 }), false);
    assert.equal(admits({ running: 1, concurrency: 1, budget, costMb: 0 }), false);
    assert.equal(admits({ running: 3, concurrency: 4, budget: null, costMb: 1000 }), true);
  });
});
