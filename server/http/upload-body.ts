import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context } from 'koa';
import {
  clientClosedEarly, emptyRequestBody, malformedMultipart, noImageInForm, tooManyParts, uploadTooLarge, type AppError,
} from '../errors';
import { asDiskError } from '../storage/disk-errors';

/** The files of one upload request, on disk, and its plain form fields. */
export interface ReceivedUpload {
  files: string[];
  fields: Record<string, string>;
}

export interface UploadLimits {
  /** Largest body in bytes, enforced while streaming. */
  maxBytes: number;
  /** Multipart fields that carry images; files in other fields are dropped unread. */
  fileFields: readonly string[];
  /** The request's private temp folder; the caller removes it. */
  dir: string;
}

/** At most this many images in one multipart request, and this many plain fields. */
const MAX_FILES = 16;
const MAX_FIELDS = 16;

/**
 * Streams the request body to disk, never whole into memory: multipart/form-data through
 * formidable, any other body as one raw image file.
 * @throws AppError payload_too_large past `maxBytes`, invalid_parameter for a malformed or empty body.
 */
export async function receiveUpload(ctx: Context, limits: UploadLimits): Promise<ReceivedUpload> {
  const declared = Number(ctx.get('Content-Length') || NaN);
  if (declared > limits.maxBytes) throw uploadTooLarge(limits.maxBytes);
  return ctx.is('multipart') ? receiveMultipart(ctx, limits) : receiveRaw(ctx, limits);
}

async function receiveRaw(ctx: Context, limits: UploadLimits): Promise<ReceivedUpload> {
  const file = join(limits.dir, 'body');
  const limit = new ByteLimit(limits.maxBytes);
  const written = pipeline(limit, createWriteStream(file, { flags: 'wx' }));
  // The request is piped rather than put in the pipeline, so that a refusal does not destroy the
  // socket: the client must still read the 413 it is owed.
  const req = ctx.req;
  const onClose = (): void => {
    if (!req.complete) limit.destroy(clientClosedEarly());
  };
  req.once('close', onClose);
  req.pipe(limit);
  try {
    await written;
  } catch (err) {
    req.unpipe(limit);
    // Discard the rest of the body and close after answering, rather than reading it to disk.
    req.resume();
    ctx.set('Connection', 'close');
    throw err;
  } finally {
    req.off('close', onClose);
  }
  if (limit.seen === 0) {
    throw emptyRequestBody();
  }
  return { files: [file], fields: {} };
}

/**
 * koa-body, loaded at the first multipart upload: with formidable and zod it costs about 8 MB of
 * RSS, which a daemon fed raw bodies (as cameras usually post) never needs to pay.
 */
function loadKoaBody(): typeof import('koa-body') {
  return require('koa-body') as typeof import('koa-body');
}

async function receiveMultipart(ctx: Context, limits: UploadLimits): Promise<ReceivedUpload> {
  // formidable ignores a write error reported once the body is parsed and keeps the truncated
  // file, so a full disk would pass for a corrupt image: the streams are made here and checked.
  const streams: Writable[] = [];
  const writeFile = (file: unknown): Writable => {
    const stream = createWriteStream((file as { filepath: string }).filepath, { flags: 'wx' });
    streams.push(stream);
    return stream;
  };
  const writeError = (): Error | null | undefined => streams.find((stream) => stream.errored)?.errored;
  const parse = loadKoaBody().koaBody({
    multipart: true,
    json: false,
    urlencoded: false,
    text: false,
    formidable: {
      uploadDir: limits.dir,
      maxFileSize: limits.maxBytes,
      maxTotalFileSize: limits.maxBytes,
      maxFiles: MAX_FILES,
      maxFields: MAX_FIELDS,
      maxFieldsSize: 64 * 1024,
      allowEmptyFiles: false,
      filter: (part) => part.name !== null && limits.fileFields.includes(part.name),
      fileWriteStreamHandler: writeFile,
    },
  });
  try {
    await parse(ctx, async () => undefined);
  } catch (err) {
    throw multipartError(writeError() ?? err, limits.maxBytes);
  }
  const failed = writeError();
  if (failed) throw multipartError(failed, limits.maxBytes);
  const files = limits.fileFields.flatMap((field) => asArray(ctx.request.files?.[field]).map((f) => f.filepath));
  if (files.length === 0) {
    throw noImageInForm(limits.fileFields);
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries((ctx.request.body ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string') fields[name] = value;
  }
  return { files, fields };
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function multipartError(err: unknown, maxBytes: number): AppError {
  const disk = asDiskError(err);
  if (disk) return disk;
  const httpCode = (err as { httpCode?: number; status?: number }).httpCode ?? (err as { status?: number }).status;
  const message = err instanceof Error ? err.message : String(err);
  if (httpCode === 413) {
    return /maxFiles|maxFields/.test(message)
      ? tooManyParts(MAX_FILES, MAX_FIELDS, err)
      : uploadTooLarge(maxBytes, err);
  }
  return malformedMultipart(message, err);
}

/** Passes bytes through until `max`, then fails the stream, so an oversized body is never kept whole. */
class ByteLimit extends Transform {
  /** Bytes passed so far. */
  seen = 0;

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) done(uploadTooLarge(this.max));
    else done(null, chunk);
  }
}
