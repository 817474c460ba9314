import type { Context } from 'koa';
import { AppError } from '../errors';

/**
 * Reads a JSON request body of at most `maxBytes`, counting while it streams.
 * @throws AppError payload_too_large past the limit, invalid_parameter for a body that is not JSON.
 */
export async function readJsonBody(ctx: Context, maxBytes: number): Promise<unknown> {
  if (!ctx.is('application/json')) {
    throw new AppError('unsupported_media_type', 'Expected a JSON body (Content-Type: application/json)');
  }
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > maxBytes) {
      ctx.set('Connection', 'close');
      throw new AppError('payload_too_large', `The JSON body is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new AppError('invalid_parameter', `The body is not valid JSON: ${(err as Error).message.slice(0, 120)}`, {
      fields: { _: 'not valid JSON' },
    });
  }
}
