import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A response as read off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Sends a request with `path` exactly as given: fetch() would resolve `..` and re-encode it
 * before a server could see it. `localAddress` is the address to send from (see {@link openSocket}).
 */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer, localAddress?: string): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A TCP connection to the server at `base`, for bytes no HTTP client would send; from
 * `localAddress` when given (any 127.x.y.z works on Linux loopback, so one machine can be several
 * clients).
 */
export function openSocket(base: string, localAddress?: string): Promise<Socket> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(port), host: hostname, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends on `socket` until it closes it (or resets it). */
export function readUntilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => { text += chunk.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(text));
  });
}

/** What {@link sendChunked} saw: the answer (if any came) and how much of the body got out. */
export interface ChunkedOutcome {
  /** The status line's code, or undefined when the server answered nothing at all. */
  status: number | undefined;
  /** The response as text (headers and body). */
  text: string;
  /** Body bytes written before the server stopped reading or closed. */
  sent: number;
}

/**
 * POSTs a body with Transfer-Encoding: chunked over a raw socket: `prefix`, then `filler` repeated
 * until `totalBytes` (bounded), then `suffix`, as a client that never declares its length would.
 * Stops writing as soon as the server answers or closes, and resolves once the server closes
 * the connection or `timeoutMs` passes.
 */
export async function sendChunked(
  base: string, path: string, headers: Record<string, string>,
  body: { prefix?: Buffer; filler?: Buffer; totalBytes?: number; suffix?: Buffer; end?: boolean },
  timeoutMs = 30_000,
): Promise<ChunkedOutcome> {
  const { host } = new URL(base);
  const socket = await openSocket(base);
  const head = [`POST ${path} HTTP/1.1`, `Host: ${host}`, 'Transfer-Encoding: chunked',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), '', ''].join('\r\n');
  let text = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
  socket.on('error', () => undefined);
  const done = new Promise<void>((resolve) => socket.once('close', () => { closed = true; resolve(); }));
  const answered = (): boolean => closed || text.length > 0;
  const write = async (data: Buffer): Promise<boolean> => {
    if (answered() || data.length === 0) return !answered();
    const ok = socket.write(Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]));
    if (!ok) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), done]);
    return !answered();
  };
  let sent = 0;
  const deadline = Date.now() + timeoutMs;
  socket.write(head);
  const pieces = [body.prefix ?? Buffer.alloc(0)];
  for (const piece of pieces) if (await write(piece)) sent += piece.length;
  const filler = body.filler;
  while (filler && sent < (body.totalBytes ?? 0) && !answered() && Date.now() < deadline) {
    if (await write(filler)) sent += filler.length;
  }
  if (body.suffix && (await write(body.suffix))) sent += body.suffix.length;
  if (body.end !== false && !answered()) socket.write('0\r\n\r\n');
  if (body.end === false) socket.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((resolve) => { timer = setTimeout(resolve, Math.max(0, deadline - Date.now())); })]);
  clearTimeout(timer);
  socket.destroy();
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return { status: status ? Number(status[1]) : undefined, text, sent };
}
