import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WORKER_START_MB } from '../../server/memory/memory-budget';
import { jsonPost, postImage, startTestApp, type TestApp } from '../helpers/test-app';
import { photoLike } from '../helpers/fixtures';

interface Status {
  memory_rss_mb: number; memory_vms_mb: number; cpu_percent: number; config: Record<string, unknown>;
  sampled_at: string; uptime_s: number;
  process: { rss_bytes: number; vms_bytes: number; rss_mb: number; heap_used_bytes: number; heap_total_bytes: number; external_bytes: number; array_buffers_bytes: number };
  system: { total_memory_bytes: number; available_memory_bytes: number; load_average: number[] };
  libvips: { cache: { memory: { current: number } }; counters: { queue: number; process: number } };
  processing: { received: number; stored: number; rejected: Record<string, number>; rejected_total: number; bytes_stored: number; last_ms: number | null; in_flight: number; queued: number };
  store: { images: number; bytes: number };
  retention: { removed_images: number; removed_bytes: number; last_reason: string | null; free_disk_bytes: number | null };
}

const MIB = 1024 * 1024;

/** The value of one series of the Prometheus text, or 0 when it is not there yet. */
function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('GET /memory_status and /metrics', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.destroy());

  async function status(): Promise<Status> {
    const res = await app.fetch('/memory_status');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    return await res.json() as Status;
  }

  it('answers real readings as JSON to curl, with the original receiver\'s flat keys', async () => {
    const asked = Date.now();
    const body = await status();
    // The daemon runs in this process, so its RSS is this process's.
    const rss = process.memoryUsage().rss;
    assert.ok(body.process.rss_bytes > rss / 2 && body.process.rss_bytes < rss * 2, `${body.process.rss_bytes} vs ${rss}`);
    assert.ok(Math.abs(body.memory_rss_mb - body.process.rss_bytes / MIB) < 0.1);
    assert.ok(body.memory_vms_mb >= body.memory_rss_mb);
    assert.equal(typeof body.cpu_percent, 'number');
    assert.deepEqual(body.config, await (await app.fetch('/config')).json());
    // Readings are at most one sampling interval old when the request is answered.
    assert.ok(Date.parse(body.sampled_at) >= asked - app.deps.monitor.intervalMs, body.sampled_at);
    assert.ok(body.process.heap_used_bytes > 0 && body.process.heap_total_bytes >= body.process.heap_used_bytes);
    assert.ok(body.system.available_memory_bytes > 0 && body.system.available_memory_bytes <= body.system.total_memory_bytes);
    assert.equal(body.system.load_average.length, 3);
    assert.equal(typeof body.libvips.cache.memory.current, 'number');
    assert.equal(typeof body.libvips.counters.queue, 'number');
    assert.ok(body.uptime_s >= 0);
  });

  it('counts a stored image and a refused one, in /memory_status and /metrics alike', async () => {
    const before = await status();
    const metricsBefore = await (await app.fetch('/metrics')).text();
    const res = await postImage(app, await photoLike(120, 90), '?source=cam-m');
    assert.equal(res.status, 201);
    const { images: [image] } = await res.json() as { images: Array<{ bytes: number; processing_ms: number }> };
    const refused = await postImage(app, Buffer.from('this is not an image at all'), '?source=cam-m');
    assert.equal(refused.status, 415);

    const after = await (await app.fetch('/memory_status')).json() as Status;
    assert.equal(after.processing.stored, before.processing.stored + 1);
    assert.equal(after.processing.received, before.processing.received + 2);
    assert.equal(after.processing.rejected.unsupported_media_type, (before.processing.rejected.unsupported_media_type ?? 0) + 1);
    assert.equal(after.processing.rejected_total, before.processing.rejected_total + 1);
    assert.equal(after.processing.bytes_stored, before.processing.bytes_stored + image.bytes);
    assert.equal(after.processing.last_ms, image.processing_ms);
    assert.deepEqual([after.processing.in_flight, after.processing.queued], [0, 0]);
    assert.equal(after.store.images, before.store.images + 1);

    const res2 = await app.fetch('/metrics');
    assert.match(res2.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res2.text();
    const delta = (series: string): number => metric(text, series) - metric(metricsBefore, series);
    assert.equal(delta('image_receiver_images_stored_total{source="cam-m"}'), 1);
    assert.equal(delta('image_receiver_images_received_total{source="cam-m"}'), 2);
    assert.equal(delta('image_receiver_images_rejected_total{reason="unsupported_media_type",source="cam-m"}'), 1);
    assert.equal(delta('image_receiver_stored_bytes_total{source="cam-m"}'), image.bytes);
    assert.equal(delta('image_receiver_processing_seconds_count'), 1);
    assert.ok(Math.abs(delta('image_receiver_processing_seconds_sum') - image.processing_ms / 1000) < 1e-6);
    assert.equal(metric(text, 'image_receiver_store_images'), after.store.images);
    assert.equal(metric(text, 'image_receiver_queue_images{state="waiting"}'), 0);
    // prom-client's default process metrics are there too.
    assert.ok(metric(text, 'process_resident_memory_bytes') > 0);
    assert.ok(metric(text, 'nodejs_heap_size_used_bytes') > 0);
  });

  it('shows the memory budget uploads are admitted by, and none with enable_memory_optimization off', async () => {
    const budgeted = await startTestApp({ settings: { memory_budget_mb: 300 } });
    const unbounded = await startTestApp({ settings: { enable_memory_optimization: false } });
    try {
      assert.equal((await postImage(budgeted, await photoLike(120, 90))).status, 201);
      const { processing } = await (await budgeted.fetch('/memory_status')).json() as { processing: { memory_budget: { budget_mb: number; origin: string; baseline_mb: number; in_flight_mb: number } } };
      assert.equal(processing.memory_budget.budget_mb, 300);
      assert.equal(processing.memory_budget.origin, 'memory_budget_mb');
      assert.equal(processing.memory_budget.in_flight_mb, 0);
      // Read before the image was admitted: this process's RSS then, and what starting the image worker costs.
      const rssMb = process.memoryUsage().rss / MIB + WORKER_START_MB;
      assert.ok(processing.memory_budget.baseline_mb > rssMb / 2 && processing.memory_budget.baseline_mb < rssMb * 2, String(processing.memory_budget.baseline_mb));
      const off = await (await unbounded.fetch('/memory_status')).json() as { processing: { memory_budget: unknown } };
      assert.equal(off.processing.memory_budget, null);
    } finally {
      await budgeted.destroy();
      await unbounded.destroy();
    }
  });

  it('shows the image worker: started by the first image, its own memory, ended when idle', async () => {
    const idle = await startTestApp({ settings: { image_worker_idle_seconds: 1 } });
    type Worker = { running: boolean; pid: number | null; private_mb: number | null; starts: number; idle_seconds: number };
    const worker = async () => ((await (await idle.fetch('/memory_status')).json()) as { image_worker: Worker }).image_worker;
    try {
      assert.deepEqual(await worker(), { running: false, pid: null, private_mb: null, starts: 0, idle_seconds: 1 });
      assert.equal((await postImage(idle, await photoLike(120, 90))).status, 201);
      const running = await worker();
      assert.equal(running.running, true);
      assert.ok(running.pid !== null && running.pid !== process.pid);
      assert.ok(running.private_mb !== null && running.private_mb > 1, `private ${running.private_mb} MiB`);
      assert.equal(running.starts, 1);
      const metrics = await (await idle.fetch('/metrics')).text();
      assert.equal(metric(metrics, 'image_receiver_image_worker_starts_total'), 1);
      assert.ok(metric(metrics, 'image_receiver_image_worker_private_bytes') > 1024 * 1024);
      let ended = running;
      for (let i = 0; i < 120 && ended.running; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ended = await worker();
      }
      assert.deepEqual(ended, { running: false, pid: null, private_mb: null, starts: 1, idle_seconds: 1 });
    } finally {
      await idle.destroy();
    }
  });

  it('shows the memory page to a browser, and JSON to anyone else', async () => {
    const page = await app.fetch('/memory_status', { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('vary') ?? '', /Accept/);
    const html = await page.text();
    assert.match(html, /Memory status/);
    assert.match(html, /data-chart="memory"/);
    const json = await app.fetch('/memory_status', { headers: { Accept: 'application/json' } });
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
  });

  it('shows retention at work: what it removed, why, and the free disk', async () => {
    const before = await status();
    assert.ok(before.retention.free_disk_bytes! > 0);
    await app.fetch('/config', jsonPost({ max_stored_images: 1 }));
    try {
      for (const seed of [1, 2]) assert.equal((await postImage(app, await photoLike(64, 48, 'jpeg', seed))).status, 201);
      const after = await status();
      assert.ok(after.retention.removed_images >= before.retention.removed_images + 1);
      assert.ok(after.retention.removed_bytes > before.retention.removed_bytes);
      assert.equal(after.retention.last_reason, 'max_stored_images');
      assert.equal(after.store.images, 1);
      const page = await (await app.fetch('/memory_status', { headers: { Accept: 'text/html' } })).text();
      assert.match(page, /data-field="retention.removed_images"/);
    } finally {
      await app.fetch('/config', jsonPost({ max_stored_images: 0 }));
    }
  });
});
