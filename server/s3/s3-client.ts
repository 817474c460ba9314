import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import aws4 from 'aws4';
import { hashFileRange } from './hash-file';
import type { S3Settings } from './s3-settings';

/**
 * The few S3 calls the forwarder makes (HeadObject, PutObject, the three multipart calls,
 * DeleteObject), signed with AWS Signature V4 by `aws4` and sent with node:http(s). Each body is
 * streamed from disk and carries both its SHA-256 (signed) and its Content-MD5, so the store
 * refuses a body that changed on the way. Loaded only when a bucket is configured
 * (s3-forwarder.ts): it and aws4 add about 1 MB to the daemon, where @aws-sdk/client-s3 adds
 * about 23 (docs/fleet.md).
 */

/** Above this size a file goes as a multipart upload, in parts of PART_BYTES. */
export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
/** The size of each part but the last; S3 wants at least 5 MiB. */
export const PART_BYTES = 8 * 1024 * 1024;
/** A request whose socket stays silent this long is abandoned (and retried by the consumer). */
const IDLE_TIMEOUT_MS = 60_000;
/** The most of an error answer kept, to name its code and message. */
const MAX_ERROR_BODY = 8192;

/** What HEAD tells of an object already stored: its size and the MD5 we put in its metadata. */
export interface ObjectHead {
  bytes: number;
  md5: string | undefined;
}

/** One object to put: a file (or a short text), its size, headers and metadata. */
export interface PutRequest {
  key: string;
  file?: string;
  text?: string;
  bytes: number;
  contentType: string;
  storageClass?: string;
  /** x-amz-meta-* entries, keys lower-case. */
  metadata: Record<string, string>;
}

/** An answer that was not a success: the HTTP status and S3's error code, in the message. */
export class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Call {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  key: string;
  query?: string;
  headers?: Record<string, string | number>;
  /** A range of a file to send, hashed first; none sends an empty body. */
  body?: { file: string; start: number; bytes: number } | { text: string };
}

/** A client bound to one endpoint, bucket and pair of keys; connections are kept alive. */
export class S3Client {
  private readonly agent: HttpAgent;

  constructor(private readonly settings: S3Settings, private readonly secret: () => string, ca?: Buffer) {
    const https = settings.endpoint.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 2, ca }) : new HttpAgent({ keepAlive: true, maxSockets: 2 });
  }

  /** The object's size and recorded MD5, or undefined when there is none. */
  async head(key: string, signal: AbortSignal): Promise<ObjectHead | undefined> {
    const answer = await this.send({ method: 'HEAD', key }, signal, [200, 404]);
    if (answer.status === 404) return undefined;
    const md5 = answer.headers['x-amz-meta-md5'];
    return { bytes: Number(answer.headers['content-length']), md5: typeof md5 === 'string' ? md5 : undefined };
  }

  /** Puts a file: in one request up to MULTIPART_THRESHOLD, as a multipart upload above it. */
  async put(object: PutRequest, signal: AbortSignal): Promise<void> {
    const headers = objectHeaders(object);
    if (object.file === undefined || object.bytes <= MULTIPART_THRESHOLD) {
      const body = object.file === undefined ? { text: object.text ?? '' } : { file: object.file, start: 0, bytes: object.bytes };
      await this.send({ method: 'PUT', key: object.key, headers, body }, signal, [200]);
      return;
    }
    const file = object.file;
    const created = await this.send({ method: 'POST', key: object.key, query: 'uploads=', headers }, signal, [200]);
    const uploadId = xmlField(created.body, 'UploadId');
    if (!uploadId) throw new S3Error(created.status, 'NoUploadId', 'CreateMultipartUpload answered no UploadId');
    try {
      const parts: string[] = [];
      for (let start = 0, number = 1; start < object.bytes; start += PART_BYTES, number++) {
        const bytes = Math.min(PART_BYTES, object.bytes - start);
        const query = `partNumber=${number}&uploadId=${encodeURIComponent(uploadId)}`;
        const part = await this.send({ method: 'PUT', key: object.key, query, body: { file, start, bytes } }, signal, [200]);
        parts.push(`<Part><PartNumber>${number}</PartNumber><ETag>${escapeXml(String(part.headers.etag ?? ''))}</ETag></Part>`);
      }
      const list = `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`;
      const done = await this.send({ method: 'POST', key: object.key, query: `uploadId=${encodeURIComponent(uploadId)}`, body: { text: list } }, signal, [200]);
      // S3 may answer 200 with an error in the body once it has started answering.
      if (xmlField(done.body, 'Code')) throw answerError(done);
    } catch (err) {
      // An unfinished upload holds its parts (and is billed) until aborted; no object is listed.
      await this.send({ method: 'DELETE', key: object.key, query: `uploadId=${encodeURIComponent(uploadId)}` }, AbortSignal.timeout(10_000), [204, 404]).catch(() => undefined);
      throw err;
    }
  }

  /** Deletes an object; one already gone is no error. */
  async delete(key: string, signal: AbortSignal): Promise<void> {
    await this.send({ method: 'DELETE', key }, signal, [200, 204, 404]);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private async send(call: Call, signal: AbortSignal, expected: number[]): Promise<Answer> {
    const { endpoint, bucket, forcePathStyle, region } = this.settings;
    const keyPath = call.key.split('/').map(encodeURIComponent).join('/');
    const host = forcePathStyle ? endpoint.host : `${bucket}.${endpoint.host}`;
    const base = endpoint.pathname.replace(/\/+$/, '');
    const path = `${base}${forcePathStyle ? `/${encodeURIComponent(bucket)}` : ''}/${keyPath}${call.query ? `?${call.query}` : ''}`;
    const digest = call.body ? await digestOf(call.body) : digestOf.empty;
    const headers: Record<string, string | number> = {
      ...call.headers,
      'Content-Length': digest.bytes,
      'X-Amz-Content-Sha256': digest.sha256,
      ...(call.body ? { 'Content-MD5': digest.md5 } : {}),
    };
    if (call.method === 'HEAD' || call.method === 'GET' || call.method === 'DELETE') delete headers['Content-Length'];
    const signed = aws4.sign(
      { host, path, method: call.method, service: 's3', region, headers },
      { accessKeyId: this.settings.accessKeyId, secretAccessKey: this.secret() },
    );
    const send = endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send({
      protocol: endpoint.protocol, hostname: endpoint.hostname, port: endpoint.port || undefined, agent: this.agent,
      method: call.method, path, headers: { ...(signed.headers as Record<string, string>), host }, signal,
      timeout: IDLE_TIMEOUT_MS,
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${endpoint.host} in ${IDLE_TIMEOUT_MS / 1000} s`)));
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    const sent = call.body && 'file' in call.body
      ? pipeline(createReadStream(call.body.file, { start: call.body.start, end: call.body.start + call.body.bytes - 1 }), req)
      : Promise.resolve(req.end(call.body?.text));
    // The answer decides: a store may answer (403) before it has read the body, and a body that
    // cannot be sent destroys the request, which fails the answer too.
    sent.catch(() => undefined);
    const res = await answered;
    const body = await readBounded(res);
    const answer = { status: res.statusCode ?? 0, headers: res.headers, body };
    if (!expected.includes(answer.status)) throw answerError(answer);
    return answer;
  }
}

/** The content type, storage class and metadata headers of an object. */
function objectHeaders(object: PutRequest): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': object.contentType };
  if (object.storageClass) headers['x-amz-storage-class'] = object.storageClass;
  for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

interface Digest {
  bytes: number;
  sha256: string;
  md5: string;
}

/** The SHA-256 (hex, signed) and MD5 (base64, Content-MD5) of a body, read once before it is sent. */
async function digestOf(body: NonNullable<Call['body']>): Promise<Digest> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  if ('text' in body) {
    const text = Buffer.from(body.text);
    return { bytes: text.length, sha256: sha256.update(text).digest('hex'), md5: md5.update(text).digest('base64') };
  }
  const bytes = await hashFileRange(body.file, body.start, body.bytes, [sha256, md5]);
  return { bytes, sha256: sha256.digest('hex'), md5: md5.digest('base64') };
}

digestOf.empty = { bytes: 0, sha256: createHash('sha256').digest('hex'), md5: '' } satisfies Digest;

async function readBounded(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (kept < MAX_ERROR_BODY) chunks.push(chunk);
    kept += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
}

function answerError(answer: Answer): S3Error {
  const code = xmlField(answer.body, 'Code') ?? (answer.status === 404 ? 'NotFound' : answer.status === 403 ? 'Forbidden' : `HTTP${answer.status}`);
  // A HEAD answer has no body to say why: a 403 there is most often a wrong key pair.
  const message = xmlField(answer.body, 'Message')
    ?? (answer.status === 403 ? 'check s3_access_key_id, the secret access key and the bucket\'s policy' : undefined);
  return new S3Error(answer.status, code, `S3 answered ${answer.status} ${code}${message ? `: ${message}` : ''}`);
}

function xmlField(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
