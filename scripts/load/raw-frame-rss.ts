import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageType } from '../../server/messages/image-schemas';
import { startDaemon } from '../../test/helpers/daemon-process';
import { RssSampler, settledRss } from './rss-sampler';

/** The Pi HQ camera's 12 MP. */
const WIDTH = 4056;
const HEIGHT = 3040;

/** Shorter than the default settling: only the baseline before each frame matters here. */
const SETTLE = { minMs: 4000, quietMs: 1500, maxMs: 15_000 };

interface RawCase {
  name: string;
  /** Bytes per pixel of the frame sent. */
  inBytes: number;
  /** Bytes per pixel of the buffer sharp decodes from. */
  outBytes: number;
  /** The request for a frame of `width` x `height`, cut from `frame` (RGB, large enough). */
  body(frame: Buffer, width: number, height: number): Body;
  /** The status the daemon answers with. @default 201 */
  status?: number;
}

interface Body { bytes: Buffer; query: string; type: string }

const CASES: RawCase[] = [
  {
    // What receiving the body costs alone, to tell it apart from the frame's own cost.
    name: 'reference: same body, not an image (415)', inBytes: 3, outBytes: 3, status: 415,
    body: (frame, w, h) => ({ bytes: frame.subarray(0, w * h * 3), query: '', type: 'application/octet-stream' }),
  },
  { name: 'rgb8 (read in place)', inBytes: 3, outBytes: 3, body: (frame, w, h) => raw(frame, 'rgb8', 3, w, h) },
  { name: 'bgr8 (swapped in place)', inBytes: 3, outBytes: 3, body: (frame, w, h) => raw(frame, 'bgr8', 3, w, h) },
  { name: 'yuyv (rows in 1 MB chunks)', inBytes: 2, outBytes: 3, body: (frame, w, h) => raw(frame, 'yuyv', 2, w, h) },
  { name: 'bayer_rggb8 (demosaiced from 1 MB chunks)', inBytes: 1, outBytes: 3, body: (frame, w, h) => raw(frame, 'bayer_rggb8', 1, w, h) },
  {
    name: 'foxglove.RawImage rgb8 (protobuf)', inBytes: 3, outBytes: 3,
    body: (frame, width, height) => {
      const type = messageType('foxglove.RawImage');
      const message = { width, height, encoding: 'rgb8', step: width * 3, data: frame.subarray(0, width * height * 3), frame_id: 'bench' };
      return { bytes: Buffer.from(type.encode(type.fromObject(message)).finish()), query: '?schema=foxglove.RawImage', type: 'application/x-protobuf' };
    },
  },
];

function raw(frame: Buffer, encoding: string, inBytes: number, width: number, height: number): Body {
  return { bytes: frame.subarray(0, width * height * inBytes), query: `?encoding=${encoding}&width=${width}&height=${height}`, type: 'image/x-raw' };
}

/**
 * RSS a 12 MP raw frame adds to the daemon (a child process, default settings): the peak while it
 * is posted and processed, less the settled RSS before, beside the size of the one frame-sized
 * buffer sharp decodes from. Each case is warmed up first with a small frame, so that loading
 * code (protobufjs at the first message) is not counted.
 */
export async function measureRawFrameRss(): Promise<string[][]> {
  const frame = Buffer.alloc(WIDTH * HEIGHT * 3);
  // A smooth picture with some noise, so that the PNG encoder works as on a photo.
  for (let i = 0; i < frame.length; i++) frame[i] = ((i % (WIDTH * 3)) >> 4) + ((i * 2654435761) >>> 29);
  const rows: string[][] = [];
  for (const c of CASES) {
    // A fresh daemon per case: freed frame buffers go back to the system only when V8 collects
    // them, so a second frame in the same process would start from an inflated baseline.
    const dataDir = await mkdtemp(join(tmpdir(), 'pir-bench-raw-'));
    const daemon = await startDaemon(dataDir);
    try {
      await post(daemon.url, c.body(frame, 64, 48), c.status);
      const body = c.body(frame, WIDTH, HEIGHT);
      const before = await settledRss(daemon.pid, SETTLE);
      const sampler = new RssSampler(daemon.pid, 20);
      sampler.start();
      const processingMs = await post(daemon.url, body, c.status);
      sampler.stop();
      const added = sampler.peak - before;
      const frameMb = (WIDTH * HEIGHT * c.outBytes) / 2 ** 20;
      rows.push([c.name, (body.bytes.length / 2 ** 20).toFixed(1), frameMb.toFixed(1), before.toFixed(1),
        sampler.peak.toFixed(1), added.toFixed(1), (added / frameMb).toFixed(2), processingMs === null ? '-' : String(processingMs)]);
    } finally {
      await daemon.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  return rows;
}

/** Posts one body; returns the stored image's processing_ms, null for a refusal. */
async function post(url: string, body: Body, status = 201): Promise<number | null> {
  const res = await fetch(`${url}/images${body.query}`, { method: 'POST', body: body.bytes, headers: { 'Content-Type': body.type } });
  const answer = await res.text();
  if (res.status !== status) throw new Error(`raw frame upload failed: ${res.status} ${answer}`);
  return status === 201 ? (JSON.parse(answer) as { images: Array<{ processing_ms: number }> }).images[0].processing_ms : null;
}
