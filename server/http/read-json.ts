import type { Readable } from 'node:stream';
import type { Context } from 'koa';
import { bodyTooLarge, invalidJson, jsonBodyRequired, jsonTooDeep, type ErrorCode } from '../errors';
import { readBody } from './request-body';

export interface JsonBodyOptions {
  maxBytes: number;
  /** The code of the refusal of a body that is not JSON (invalid_settings for /config). */
  code: ErrorCode;
  /** An example body, quoted in that refusal. */
  hint: string;
}

/**
 * How deep a JSON body may nest. The deepest real body (displays with their palettes) nests 4
 * levels; a body that nests thousands parses, but then overflows the stack of whatever walks it
 * (validation, logging), so it is refused before it is parsed.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Reads a small JSON request body through the request's byte counter. Only a body declared as
 * `application/json` is read: a page of another site may send `text/plain` without asking the
 * daemon first, but not JSON.
 * @throws AppError payload_too_large past `maxBytes`, invalid_parameter for a body nested deeper
 * than {@link MAX_JSON_DEPTH}, `code` (with `error.fields._`) for a body that is not JSON,
 * unsupported_media_type when the type is not JSON.
 */
export async function readJson(ctx: Context, options: JsonBodyOptions): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw jsonBodyRequired();
  }
  const text = await readBody(ctx, { maxBytes: options.maxBytes, tooLarge: bodyTooLarge }, readText);
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw jsonTooDeep(MAX_JSON_DEPTH);
  try {
    return JSON.parse(text);
  } catch {
    throw invalidJson(options.code, options.hint);
  }
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The deepest nesting of arrays and objects in JSON `text`, brackets inside strings not counted. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      deepest = Math.max(deepest, ++depth);
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
