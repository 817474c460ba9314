import { AppError, type ErrorCode } from '../errors';

/**
 * Reads a small JSON body.
 * @throws AppError `code` for malformed JSON (with `hint` as the example to send),
 * payload_too_large past `maxBytes`.
 */
export async function readJson(req: NodeJS.ReadableStream, maxBytes: number, code: ErrorCode, hint: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBytes) throw new AppError('payload_too_large', `This body is at most ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError(code, `The body is not valid JSON; send a JSON object such as ${hint}`);
  }
}
