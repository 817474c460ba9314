import { request } from 'node:http';
import type { Socket } from 'node:net';
import { openSocket } from '../../test/helpers/raw-http';

/** One hostile request, sent over a raw socket as an attacker would write it. */
export interface HostileCase {
  /** Short name for --only. */
  key: string;
  /** What it is, for the report. */
  label: string;
  /** The request line and headers, ending with the blank line; `Connection: close` included. */
  head(config: Record<string, unknown>): string;
  /** The body, piece by piece; written as the socket drains, chunk-framed when `chunked`. */
  body(config: Record<string, unknown>): Iterable<Buffer>;
  chunked: boolean;
}

const MiB = 2 ** 20;

/** `count` pieces of `piece`, lazily: a 96 MiB body never exists in this process. */
function* repeat(piece: Buffer, count: number): Iterable<Buffer> {
  for (let i = 0; i < count; i++) yield piece;
}

const junk = Buffer.alloc(64 * 1024, 'A');

/** The hostile requests of the review: each has a fixed size, and the sender a time cap. */
export const HOSTILE_CASES: readonly HostileCase[] = [
  {
    key: 'multipart-header',
    label: 'multipart, chunked, a part header that never ends (96 MiB)',
    chunked: true,
    head: () => 'POST /images HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XB\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
    body: () => [
      Buffer.from('--XB\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nX-Junk: '),
      ...repeat(junk, (96 * MiB) / junk.length),
    ],
  },
  {
    key: 'raw-chunked',
    label: 'raw body, chunked, past max_upload_bytes (64 MiB)',
    chunked: true,
    head: () => 'POST /images HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
    body: () => [Buffer.from([0xff, 0xd8, 0xff]), ...repeat(Buffer.alloc(64 * 1024), (64 * MiB) / (64 * 1024))],
  },
  {
    key: 'deep-json',
    label: 'JSON nested 20,000 deep to /config',
    chunked: false,
    head: () => `POST /config HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40000\r\nConnection: close\r\n\r\n`,
    body: () => [Buffer.from('['.repeat(20_000) + ']'.repeat(20_000))],
  },
  {
    key: 'protobuf-fields',
    label: 'protobuf, 500,000 empty data fields (1 MB)',
    chunked: false,
    head: () => 'POST /images?schema=foxglove.CompressedImage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n' +
      'Content-Length: 1000000\r\nConnection: close\r\n\r\n',
    // Field 2 (data) of foxglove.CompressedImage, length-delimited and empty: tag 0x12, length 0.
    body: () => [Buffer.alloc(1_000_000).fill(Buffer.from([0x12, 0x00]))],
  },
  {
    key: 'foreign-origin',
    label: 'POST /config from a foreign Origin, text/plain (the value it has)',
    chunked: false,
    head: (config) => `POST /config HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://attacker.example\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${foreignBody(config).length}\r\nConnection: close\r\n\r\n`,
    body: (config) => [foreignBody(config)],
  },
];

/** A change that changes nothing: max_stored_images set to the value it has. */
function foreignBody(config: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ max_stored_images: config.max_stored_images }));
}

/** How a hostile request ended: the status line and error code, or what happened instead. */
export interface HostileOutcome {
  /** "413 payload_too_large", "ECONNRESET without an answer", "closed without an answer", "no answer in 120 s". */
  answer: string;
  /** Time from the first byte sent to the end. */
  ms: number;
  /** Body bytes written before the daemon answered or closed. */
  sentBytes: number;
}

/**
 * Sends `hostile` on a fresh connection, writing its body as the socket drains and stopping as
 * soon as the daemon answers or closes; gives up after `timeLimitMs`.
 */
export async function sendHostile(url: string, hostile: HostileCase, config: Record<string, unknown>, timeLimitMs: number): Promise<HostileOutcome> {
  const started = performance.now();
  let socket: Socket;
  try {
    socket = await openSocket(url);
  } catch (err) {
    return { answer: `cannot connect: ${(err as Error).message}`, ms: 0, sentBytes: 0 };
  }
  let received = '';
  socket.on('data', (chunk: Buffer) => { if (received.length < 4096) received += chunk.toString('latin1'); });
  let reset = '';
  socket.on('error', (err: NodeJS.ErrnoException) => { reset = err.code ?? err.message; });
  // Not events.once: it rejects on 'error', and a reset is an outcome here, not a failure.
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve('closed')));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('expired'), timeLimitMs); });
  let sentBytes = 0;
  let outcome = '';
  socket.write(hostile.head(config), 'latin1');
  for (const piece of hostile.body(config)) {
    if (received || socket.destroyed || outcome) break;
    const framed = hostile.chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
    sentBytes += piece.length;
    if (!socket.write(framed)) outcome = await Promise.race([new Promise<string>((resolve) => socket.once('drain', () => resolve(''))), closed, expired]);
  }
  if (!received && !socket.destroyed && hostile.chunked) socket.write('0\r\n\r\n');
  if (outcome !== 'expired') outcome = await Promise.race([closed, expired]);
  clearTimeout(timer);
  socket.destroy();
  const ms = performance.now() - started;
  const status = /^HTTP\/1\.1 (\d+)/.exec(received)?.[1];
  const code = /"code":"(\w+)"/.exec(received)?.[1];
  if (status) return { answer: code ? `${status} ${code}` : status, ms, sentBytes };
  if (outcome === 'expired') return { answer: `no answer in ${timeLimitMs / 1000} s`, ms, sentBytes };
  return { answer: reset ? `${reset} without an answer` : 'closed without an answer', ms, sentBytes };
}

/** One GET from `localAddress` on a fresh connection: its status, or why there was none, and its time. */
export function timedGet(url: string, path: string, localAddress: string, timeoutMs: number): Promise<{ status?: number; failure?: string; ms: number }> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, path, localAddress, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ failure: err.code ?? err.message, ms: performance.now() - started }));
    req.end();
  });
}

/** Connections holding slow uploads open: see {@link holdSlowUploads}. */
export interface SlowUploads {
  /** Still connected. */
  open(): number;
  /** Answered with this status line's code, by code: `{ "429": 108 }`. */
  answered(): Record<string, number>;
  /** Closed without an answer. */
  closedSilently(): number;
  /** Stops trickling and closes every connection. */
  close(): void;
}

/**
 * Opens `count` uploads from `localAddress` that each declare 50 MB and trickle `bytesPerTick`
 * every `tickMs`, as a client holding many slow uploads does.
 */
export async function holdSlowUploads(url: string, localAddress: string, count: number, bytesPerTick: number, tickMs: number): Promise<SlowUploads> {
  const head = 'POST /images?source=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: 50000000\r\n\r\n';
  const sockets: Socket[] = [];
  const answers: string[] = [];
  let silent = 0;
  for (let i = 0; i < count; i++) {
    const socket = await openSocket(url, localAddress).catch(() => undefined);
    if (!socket) {
      silent++;
      continue;
    }
    let first = '';
    socket.on('data', (chunk: Buffer) => { if (!first) first = chunk.toString('latin1', 0, 16); });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      const status = /^HTTP\/1\.1 (\d+)/.exec(first)?.[1];
      if (status) answers.push(status);
      else silent++;
    });
    socket.write(head);
    sockets.push(socket);
  }
  const piece = Buffer.alloc(bytesPerTick, 'x');
  const timer = setInterval(() => { for (const socket of sockets) if (!socket.destroyed) socket.write(piece); }, tickMs);
  return {
    open: () => sockets.filter((socket) => !socket.destroyed).length,
    answered: () => answers.reduce<Record<string, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {}),
    closedSilently: () => silent,
    close() {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
    },
  };
}
