import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import sharp from 'sharp';
import { isAlive, runDaemon, startDaemon, type DaemonProcess } from '../helpers/daemon-process';
import { createMemoryCgroup, type MemoryCgroup } from '../helpers/memory-cgroup';
import { sendChunked, type ChunkedOutcome } from '../helpers/raw-http';
import { REPO_ROOT } from '../helpers/repo';

const MIB = 1024 * 1024;
/** The unit's MemoryMax=320M and MemoryHigh=256M (systemd/pi-image-receiver.service). */
const UNIT_LIMITS = { maxBytes: 320 * MIB, highBytes: 256 * MIB };
/** The start wrapper the unit runs: it sets the allocator environment, then execs node. */
const START_WRAPPER = join(REPO_ROOT, 'scripts', 'pi-image-receiver');
/** max_upload_bytes for this daemon: the 12 MP JPEGs fit, the hostile bodies are many times over. */
const MAX_UPLOAD_BYTES = 16 * MIB;
/** The largest panel a display may have (server/display/frame-memory.ts). */
const LARGEST_PANEL = { width: 4096, height: 4096 };

/** A 12 MP (4056x3040) JPEG, quick to make: a small noise field enlarged; it decodes as any 12 MP JPEG. */
async function jpeg12mp(): Promise<Buffer> {
  const small = await sharp({ create: { width: 507, height: 380, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 50 } } }).png().toBuffer();
  return sharp(small).resize(4056, 3040, { kernel: 'nearest' }).jpeg({ quality: 90 }).toBuffer();
}

/** The width and height a PNG's header declares. */
function pngSize(png: Buffer): [number, number] {
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

/**
 * The daemon started as the unit starts it (the start wrapper, MemoryMax=320M, MemoryHigh=256M),
 * inside a memory cgroup of its own with no swap, then driven with what would take the most memory:
 * hostile bodies, a huge display panel, the largest allowed panel's frames and parallel 12 MP
 * uploads. Each case must be answered with an HTTP status, and the kernel must kill nothing.
 */
describe('the daemon under the unit\'s memory limit', { timeout: 180_000 }, () => {
  let dataDir: string;
  let cgroup: MemoryCgroup | undefined;
  let skipReason: string | undefined;
  let daemon: DaemonProcess | undefined;
  let oomBefore = 0;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pir-e2e-memory-'));
    const made = await createMemoryCgroup(`pir-memory-test-${process.pid}`, UNIT_LIMITS);
    if (typeof made === 'string') {
      skipReason = made;
      return;
    }
    cgroup = made;
    oomBefore = cgroup.oomKills();
    const settingsFile = join(dataDir, 'operator-settings.json');
    // The operator's panel at the largest size allowed, its frames rendered in the daemon when asked
    // for (on_store would render one per upload, one after another: slow here, and no different).
    await writeFile(settingsFile, JSON.stringify({
      max_upload_bytes: MAX_UPLOAD_BYTES,
      displays: [{ name: 'wall', ...LARGEST_PANEL, palette: 'spectra6', render: 'on_request' }],
    }));
    daemon = await startDaemon(join(dataDir, 'data'), { SETTINGS_FILE: settingsFile, NODE_ENV: 'production' }, [], cgroup.wrap([START_WRAPPER]));
  });

  after(async () => {
    if (daemon && isAlive(daemon.pid)) {
      // A daemon whose event loop is stuck may not get to its SIGTERM handler: killed after 15 s.
      const killer = setTimeout(() => process.kill(daemon!.pid, 'SIGKILL'), 15_000);
      await daemon.stop();
      clearTimeout(killer);
    }
    await cgroup?.remove();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Skips when no memory cgroup can be made here; else the daemon. */
  function running(t: TestContext): DaemonProcess | undefined {
    if (skipReason) t.skip(skipReason);
    return skipReason ? undefined : daemon;
  }

  /** The request got an HTTP answer, whatever its status, rather than a reset or nothing. */
  function assertAnswered(outcome: ChunkedOutcome, t: TestContext): void {
    assert.equal(typeof outcome.status, 'number', `no answer after ${outcome.sent} bytes sent: ${JSON.stringify(outcome.text.slice(0, 200))}`);
    t.diagnostic(`answered ${outcome.status} after ${(outcome.sent / MIB).toFixed(1)} MiB sent`);
  }

  /** The kernel's OOM killer has killed nothing in the daemon's cgroup. */
  function assertNoOomKill(d: DaemonProcess): void {
    assert.equal(cgroup!.oomKills(), oomBefore, `the OOM killer struck; daemon output:\n${d.output().slice(-2000)}`);
  }

  /** The daemon is alive, the kernel killed nothing in its cgroup, and /health answers 200. */
  async function assertStillUp(d: DaemonProcess, t: TestContext): Promise<void> {
    assertNoOomKill(d);
    assert.ok(isAlive(d.pid), `the daemon is gone; its output:\n${d.output().slice(-2000)}`);
    assert.equal((await fetch(`${d.url}/health`)).status, 200);
    const peak = cgroup!.peakBytes();
    if (peak !== undefined) t.diagnostic(`cgroup ${cgroup!.version} peak so far: ${(peak / MIB).toFixed(0)} MiB`);
  }

  it('runs inside the cgroup and takes its MemoryHigh as the memory budget', (t) => {
    const d = running(t);
    if (!d) return;
    assert.match(d.output(), /memory budget 256 MB \(cgroup memory\.high\)/);
  });

  it('renders the largest panel\'s frame while 4 parallel 12 MP uploads are processed', async (t) => {
    const d = running(t);
    if (!d) return;
    const jpeg = await jpeg12mp();
    const upload = (source: string) => fetch(`${d.url}/images?source=${source}`, { method: 'POST', body: jpeg, headers: { 'Content-Type': 'image/jpeg' } })
      .then(async (res) => ({ status: res.status, body: await res.json() as { images: Array<{ id: string }> } }));
    const first = await upload('first');
    assert.equal(first.status, 201);
    // The first image's frame is rendered in the daemon while the four are decoded in the worker.
    const frame = fetch(`${d.url}/images/${first.body.images[0].id}/frame?display=wall`)
      .then(async (res) => ({ status: res.status, png: Buffer.from(await res.arrayBuffer()) }));
    const uploads = Promise.all([0, 1, 2, 3].map((i) => upload(`cam${i}`)));
    await Promise.allSettled([frame, uploads]);
    // A killed daemon shows as failed requests: the OOM count says why, before they do.
    assertNoOomKill(d);
    assert.deepEqual((await uploads).map((a) => a.status), [201, 201, 201, 201]);
    const { status, png } = await frame;
    assert.equal(status, 200);
    assert.deepEqual(pngSize(png), [LARGEST_PANEL.width, LARGEST_PANEL.height]);
    await assertStillUp(d, t);
  });

  it('refuses a 24 MP AVIF, whose decoding could never fit, before decoding it', async (t) => {
    const d = running(t);
    if (!d) return;
    // libheif decodes AVIF whole: about 18 MB a megapixel, some 450 MB here, within max_input_pixels.
    const small = await sharp({ create: { width: 354, height: 266, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer();
    const avif = await sharp(small).resize(5664, 4248, { kernel: 'nearest' }).avif({ effort: 0, quality: 40 }).toBuffer();
    const res = await fetch(`${d.url}/images?source=avif`, { method: 'POST', body: avif, headers: { 'Content-Type': 'image/avif' } });
    assertNoOomKill(d);
    assert.equal(res.status, 413);
    const { error } = await res.json() as { error: { code: string; message: string } };
    assert.equal(error.code, 'too_many_pixels');
    assert.match(error.message, /more than the memory budget of 256 MB \(cgroup memory\.high\) leaves beside the daemon/);
    await assertStillUp(d, t);
  });

  it('refuses a 8192x8192 panel over POST /config, saying why', async (t) => {
    const d = running(t);
    if (!d) return;
    const res = await fetch(`${d.url}/config`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ displays: [{ name: 'huge', width: 8192, height: 8192, palette: 'spectra6' }] }),
    });
    assert.equal(res.status, 400);
    const { error } = await res.json() as { error: { fields: Record<string, string> } };
    assert.match(error.fields['displays[0]'], /a 8192x8192 frame needs about \d+ MB to render/);
    await assertStillUp(d, t);
  });

  it('answers a chunked raw body larger than max_upload_bytes', async (t) => {
    const d = running(t);
    if (!d) return;
    const outcome = await sendChunked(d.url, '/images', { 'Content-Type': 'image/jpeg' },
      { prefix: Buffer.from([0xff, 0xd8, 0xff]), filler: Buffer.alloc(64 * 1024, 0x41), totalBytes: 4 * MAX_UPLOAD_BYTES });
    assertAnswered(outcome, t);
    await assertStillUp(d, t);
  });

  it('answers 20,000 nested JSON arrays sent to /config', async (t) => {
    const d = running(t);
    if (!d) return;
    const depth = 20_000;
    const outcome = await sendChunked(d.url, '/config', { 'Content-Type': 'application/json' }, { prefix: Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`) });
    assertAnswered(outcome, t);
    await assertStillUp(d, t);
  });

  it('answers a chunked multipart upload whose part header never ends (200 MB)', async (t) => {
    const d = running(t);
    if (!d) return;
    const boundary = 'pirboundary';
    const prefix = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nX-Junk: `);
    const outcome = await sendChunked(d.url, '/images', { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      { prefix, filler: Buffer.alloc(64 * 1024, 0x41), totalBytes: 200 * MIB });
    assertAnswered(outcome, t);
    await assertStillUp(d, t);
  });

  it('answers a protobuf message of 500,000 empty data fields', async (t) => {
    const d = running(t);
    if (!d) return;
    // foxglove.CompressedImage's data is field 2, length-delimited: tag 0x12, length 0.
    const message = Buffer.alloc(1_000_000);
    for (let i = 0; i < message.length; i += 2) message[i] = 0x12;
    const outcome = await sendChunked(d.url, '/images?schema=foxglove.CompressedImage', { 'Content-Type': 'application/x-protobuf' }, { prefix: message });
    assertAnswered(outcome, t);
    await assertStillUp(d, t);
  });
});

describe('an operator\'s panel that cannot fit', () => {
  it('stops the start with a message that says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-e2e-panel-'));
    try {
      const settingsFile = join(dir, 'settings.json');
      await writeFile(settingsFile, JSON.stringify({ displays: [{ name: 'huge', width: 8192, height: 8192, palette: 'bw' }] }));
      const { code, output } = await runDaemon({ DATA_DIR: join(dir, 'data'), SETTINGS_FILE: settingsFile, PORT: '0', HOST: '127.0.0.1' }, []);
      assert.equal(code, 1);
      assert.match(output, /cannot start: displays\[0\]: a 8192x8192 frame needs about \d+ MB to render, more than the \d+ MB a frame may take .*; the largest panel of this shape that fits is 4096x4096/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
