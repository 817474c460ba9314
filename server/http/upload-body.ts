import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context } from 'koa';
import type { BusboyConfig, FileInfo } from 'busboy';
import {
  AppError, emptyRequestBody, malformedMultipart, noImageInForm, tooManyParts, uploadTooLarge,
} from '../errors';
import { asDiskError } from '../storage/disk-errors';
import { readBody } from './request-body';
import { HEAD_BYTES } from '../pipeline/image-header';

/** The files of one upload request, on disk, and its plain form fields. */
export interface ReceivedUpload {
  files: string[];
  fields: Record<string, string>;
  /** The first HEAD_BYTES of files, by path, kept as they streamed (a raw body's). */
  heads?: ReadonlyMap<string, Buffer>;
  /** A small raw body, kept whole in memory instead of written to `files` (see {@link UploadLimits.smallBodyInMemory}). */
  bytes?: Buffer;
}

export interface UploadLimits {
  /** Largest body in bytes, counted while streaming, whatever the body declares. */
  maxBytes: number;
  /** Multipart fields that carry images; files in other fields are read past, never stored. */
  fileFields: readonly string[];
  /** The request's private temp folder; the caller removes it. */
  dir: string;
  /**
   * Keep a raw body that declares no more than HEAD_BYTES in memory, unwritten: its start is kept
   * for its header anyway, so holding it whole costs nothing more, and the file's open, write,
   * close and removal are saved. Only for what the pipeline reads from memory (encoded images).
   */
  smallBodyInMemory?: boolean;
}

/**
 * What one multipart form may hold. A part's headers are held in memory while they are read,
 * one part at a time, and busboy caps them at 16 KiB and 2000 lines; with these caps a form can
 * make the daemon hold at most one part's headers and its fields (16 × 4 KiB): under 100 KiB,
 * whatever it sends.
 */
export const FORM_LIMITS = {
  files: 16,
  fields: 16,
  /** A plain field's value (source, captured_at, display options) is short. */
  fieldBytes: 4 * 1024,
  /** A field's name; longer ones are refused, not cut. */
  nameBytes: 100,
} as const;

/**
 * Streams the request body to disk, never whole into memory: multipart/form-data through busboy,
 * any other body as one raw image file; only a small raw body, when asked, is kept in memory
 * ({@link UploadLimits.smallBodyInMemory}).
 * @throws AppError payload_too_large past `maxBytes` or the form limits, invalid_parameter for a
 * malformed or empty body.
 */
export async function receiveUpload(ctx: Context, limits: UploadLimits): Promise<ReceivedUpload> {
  const bodyLimit = { maxBytes: limits.maxBytes, tooLarge: uploadTooLarge };
  if (ctx.is('multipart')) return readBody(ctx, bodyLimit, (body) => receiveMultipart(ctx, body, limits));
  // Only a declared length counts: a chunked body may grow past any size while it streams. Node's
  // parser reads exactly the declared length, and refuses a request that both declares and chunks.
  const small = limits.smallBodyInMemory === true && Number(ctx.get('Content-Length') || NaN) <= HEAD_BYTES;
  return readBody(ctx, bodyLimit, (body) => (small ? receiveSmallRaw(body) : receiveRaw(body, limits)));
}

async function receiveSmallRaw(body: Readable): Promise<ReceivedUpload> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) throw emptyRequestBody();
  return { files: [], fields: {}, bytes };
}

async function receiveRaw(body: Readable, limits: UploadLimits): Promise<ReceivedUpload> {
  const file = join(limits.dir, 'body');
  const out = createWriteStream(file, { flags: 'wx' });
  // The body's start is kept as it passes, for its header: the file is not read back for it.
  const head: Buffer[] = [];
  let headBytes = 0;
  body.on('data', (chunk: Buffer) => {
    if (headBytes >= HEAD_BYTES) return;
    head.push(chunk.subarray(0, HEAD_BYTES - headBytes));
    headBytes += head[head.length - 1].length;
  });
  try {
    await pipeline(body, out);
  } catch (err) {
    throw asDiskError(err) ?? err;
  }
  if (out.bytesWritten === 0) throw emptyRequestBody();
  return { files: [file], fields: {}, heads: new Map([[file, Buffer.concat(head)]]) };
}

/** busboy, loaded at the first multipart upload: a daemon fed raw bodies, as cameras post, never pays for it. */
function loadBusboy(): typeof import('busboy') {
  return require('busboy') as typeof import('busboy');
}

async function receiveMultipart(ctx: Context, body: Readable, limits: UploadLimits): Promise<ReceivedUpload> {
  const config: BusboyConfig = {
    headers: ctx.req.headers,
    limits: {
      files: FORM_LIMITS.files,
      fields: FORM_LIMITS.fields,
      parts: FORM_LIMITS.files + FORM_LIMITS.fields,
      fieldSize: FORM_LIMITS.fieldBytes,
      fieldNameSize: FORM_LIMITS.nameBytes,
      fileSize: limits.maxBytes,
    },
  };
  let form: ReturnType<typeof import('busboy')>;
  try {
    form = loadBusboy()(config);
  } catch (err) {
    throw malformedMultipart((err as Error).message, err);
  }
  const files: string[] = [];
  const writes: Promise<void>[] = [];
  const fields: Record<string, string> = Object.create(null);
  // The first refusal wins: the form is destroyed with it, and so is the body.
  const refuse = (error: AppError): void => {
    form.destroy(error);
  };
  // The pipeline below sees the form's errors; a refusal after it settled must not go uncaught.
  form.on('error', () => undefined);
  const tooMany = (): void => refuse(tooManyParts(FORM_LIMITS.files, FORM_LIMITS.fields));
  form.on('partsLimit', tooMany).on('filesLimit', tooMany).on('fieldsLimit', tooMany);
  form.on('field', (name: string, value: string, info: { valueTruncated: boolean }) => {
    if (Buffer.byteLength(name) > FORM_LIMITS.nameBytes) return refuse(malformedMultipart(`a field name is longer than ${FORM_LIMITS.nameBytes} bytes`));
    if (info.valueTruncated) return refuse(malformedMultipart(`the field ${JSON.stringify(name)} is longer than ${FORM_LIMITS.fieldBytes} bytes`));
    fields[name] = value;
  });
  form.on('file', (name: string, stream: Readable, _info: FileInfo) => {
    if (!limits.fileFields.includes(name)) {
      // Another field's file: read past it; its bytes still count against the body's limit, and
      // its errors are the form's, which the pipeline below sees.
      stream.on('error', () => undefined).resume();
      return;
    }
    const file = join(limits.dir, `part-${files.length}`);
    files.push(file);
    writes.push(pipeline(stream, createWriteStream(file, { flags: 'wx' })).catch((err: unknown) => {
      const error = asAppError(err);
      refuse(error);
      throw error;
    }));
  });
  let failure: unknown;
  try {
    await pipeline(body, form);
  } catch (err) {
    failure = err;
  }
  // Every write is waited for, even after a refusal, so that none is left writing into the
  // folder the caller removes, and none fails unobserved.
  const written = await Promise.allSettled(writes);
  failure ??= written.find((result) => result.status === 'rejected')?.reason;
  if (failure !== undefined) throw asAppError(failure);
  const stored: string[] = [];
  for (const file of files) if ((await stat(file)).size > 0) stored.push(file);
  if (stored.length === 0) throw noImageInForm(limits.fileFields);
  return { files: stored, fields: { ...fields } };
}

/** Our own refusals pass as they are; busboy's messages (a malformed header, a form cut short) become a 400. */
function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return asDiskError(err) ?? malformedMultipart(err instanceof Error ? err.message : String(err), err);
}
