import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { METRIC_PREFIX } from '../../server/monitoring/metrics';
import { solidPng } from '../helpers/fixtures';
import { mosquittoInstalled, startBroker } from '../helpers/mosquitto';
import { eventually } from '../helpers/mqtt-listener';
import { REPO_ROOT, run } from '../helpers/repo';
import { postImage, startTestApp, type TestApp } from '../helpers/test-app';

/** Debian's `prometheus` package ships promtool; .ci/run installs it. */
const promtoolInstalled = !run('promtool', ['--version']).missing;

/** What `promtool check metrics` says of an exposition text, given on its stdin; at most 30 s. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: 30_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin!.end(text);
  });
}

/** The value of one series of the exposition text, or undefined when it is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Each `# TYPE` line of the exposition text: metric name to type. */
function types(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

describe('/metrics as Prometheus reads it', () => {
  let app: TestApp;
  let logDir: string;
  let text: string;
  before(async () => {
    // The id log makes a durable consumer, so that its series are in the scrape.
    logDir = await mkdtemp(join(tmpdir(), 'pir-metrics-'));
    app = await startTestApp({ settings: { id_log_file: join(logDir, 'ids.log') } });
    assert.equal((await postImage(app, await solidPng(16, 12), '?source=cam-p', 'image/png')).status, 201);
    assert.equal((await postImage(app, Buffer.from('not an image'), '?source=cam-p', 'text/plain')).status, 415);
    type Consumers = { consumers: Record<string, { delivered: number }> };
    await eventually(async () => ((await (await app.fetch('/memory_status')).json()) as Consumers).consumers['id-log'].delivered, (n) => n === 1, 15_000);
    const res = await app.fetch('/metrics');
    assert.equal(res.status, 200);
    text = await res.text();
  });
  after(async () => {
    await app.destroy();
    await rm(logDir, { recursive: true, force: true });
  });

  it('passes promtool check metrics with no problem reported', { skip: !promtoolInstalled && 'promtool is not installed (Debian package prometheus; .ci/run installs it)' }, async () => {
    // The scrape really holds what was asked of it, so promtool judged the series that matter.
    assert.equal(sample(text, `${METRIC_PREFIX}images_rejected_total{reason="unsupported_media_type",source="cam-p"}`), 1);
    assert.equal(sample(text, `${METRIC_PREFIX}consumer_delivered_images_total{consumer="id-log"}`), 1);
    const checked = await promtoolCheck(text);
    assert.equal(checked.output.trim(), '', checked.output);
    assert.equal(checked.code, 0);
    // And promtool does report problems here: a gauge named like a counter fails it.
    const bad = await promtoolCheck('# HELP x_total A gauge.\n# TYPE x_total gauge\nx_total 1\n');
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /x_total non-counter metrics should not have "_total" suffix/);
  });

  it('shows counts that only grow as counters ending in _total, and bytes as whole numbers', () => {
    const typeOf = types(text);
    for (const name of ['consumer_delivered_images_total', 'consumer_skipped_images_total', 'consumer_failures_total', 'image_worker_starts_total']) {
      assert.equal(typeOf.get(`${METRIC_PREFIX}${name}`), 'counter', name);
    }
    assert.equal(sample(text, `${METRIC_PREFIX}consumer_skipped_images_total{consumer="id-log"}`), 0);
    assert.equal(sample(text, `${METRIC_PREFIX}consumer_failures_total{consumer="id-log"}`), 0);
    assert.equal(sample(text, `${METRIC_PREFIX}image_worker_starts_total`), 1);
    // One upload answered with 201, one refused: only the first is in the phase totals.
    assert.equal(sample(text, `${METRIC_PREFIX}upload_phase_images_total`), 1);
    assert.ok(sample(text, `${METRIC_PREFIX}upload_phase_seconds_total{phase="worker"}`)! > 0);
    assert.ok(sample(text, `${METRIC_PREFIX}upload_phase_cpu_seconds_total{phase="body"}`)! > 0);
    // Its PNG and record, and the folder's, at least.
    assert.ok(sample(text, `${METRIC_PREFIX}fsyncs_total`)! >= 3);
    for (const [name, type] of typeOf) assert.ok(type === 'counter' || !name.endsWith('_total'), `${name} is a ${type}`);
    const byteSamples = text.split('\n').filter((line) => /^[a-z_]+_bytes(_total)?[{ ]/.test(line));
    assert.ok(byteSamples.some((line) => line.startsWith(`${METRIC_PREFIX}image_worker_private_bytes `)), 'the worker ran, so its memory is there');
    for (const line of byteSamples) assert.ok(Number.isInteger(Number(line.split(' ').at(-1))), line);
  });

  it('says which daemon, Node.js, sharp and libvips run, and that MQTT is off', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const labels = `version="${version}",node="${process.versions.node}",sharp="${sharp.versions.sharp}",libvips="${sharp.versions.vips}"`;
    assert.equal(sample(text, `${METRIC_PREFIX}build_info{${labels}}`), 1);
    assert.equal(types(text).get(`${METRIC_PREFIX}build_info`), 'gauge');
    assert.equal(sample(text, `${METRIC_PREFIX}mqtt_connected`), 0);
  });

  it('matches the table in docs/monitoring.md: names, types and labels', async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs', 'monitoring.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(image_receiver_\w+)` \| (\w+) \|([^|]*)\|/gm)]
      .map((m) => `${m[1]} ${m[2]} ${[...m[3].matchAll(/`(\w+)`/g)].map((l) => l[1]).join(',')}`);
    // prom-client keeps each metric's label names, though its typings do not declare them.
    type Declared = { name: string; labelNames: string[] };
    const typeOf = types(text);
    const metrics = app.deps.monitor.metrics.registry.getMetricsAsArray()
      .filter((metric) => metric.name.startsWith(METRIC_PREFIX))
      .map((metric) => `${metric.name} ${typeOf.get(metric.name)} ${(metric as unknown as Declared).labelNames.join(',')}`);
    assert.deepEqual(rows.sort(), metrics.sort());
  });
});

describe('image_receiver_mqtt_connected against a real mosquitto', { skip: !mosquittoInstalled && 'mosquitto is not installed' }, () => {
  it('is 1 while connected and 0 once the broker is gone', async () => {
    const broker = await startBroker();
    const app = await startTestApp({
      settings: { mqtt_url: broker.url, mqtt_username: broker.username, mqtt_password: broker.password, mqtt_topic_prefix: `pir-test/${process.pid}-metrics`, mqtt_client_id: `pir-metrics-${process.pid}` },
    });
    const connected = async () => sample(await (await app.fetch('/metrics')).text(), `${METRIC_PREFIX}mqtt_connected`);
    try {
      assert.equal(await eventually(connected, (v) => v === 1, 15_000), 1);
      await broker.stop();
      assert.equal(await eventually(connected, (v) => v === 0, 15_000), 0);
    } finally {
      await app.destroy();
      await broker.destroy();
    }
  });
});
