/**
 * The child process of `DurableFloor` (durable-floor.ts): the least an HTTP receiver can do that
 * answers only once the image is safe on disk. It keeps the body in memory, processes it with bare
 * sharp in this process (as many at once as the daemon would), writes the PNG with the daemon's
 * durable write and rename and flushes the folder, then answers 201 with the PNG's figures.
 * Nothing else: no worker process, no temp file for the body, no middleware, no record, no log.
 * Arguments: the folder to store into, and the optimization mode (on, off).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DirectorySync, replaceFile } from '../../server/atomic-write';
import { ProcessingQueue } from '../../server/memory/processing-queue';
import { pngOptions } from '../../server/pipeline/process-image';
import { processingConcurrency, tuneSharp } from '../../server/pipeline/sharp-tuning';
import { DEFAULT_SETTINGS, type Settings } from '../../server/settings';
import { bareSharp } from './ceiling';

const [dir, mode] = process.argv.slice(2);
const settings: Settings = { ...DEFAULT_SETTINGS, enable_memory_optimization: mode === 'on' };
tuneSharp(settings);
const queue = new ProcessingQueue({ concurrency: () => processingConcurrency(settings), maxWaiting: () => Infinity });
const folder = new DirectorySync(dir);
let stored = 0;

async function receive(req: IncomingMessage): Promise<{ width: number; height: number; bytes: number }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const { data, info } = await queue.run(() => bareSharp(body, settings).png(pngOptions(settings)).toBuffer({ resolveWithObject: true }));
  await replaceFile(join(dir, `${stored++}.png`), data);
  await folder.sync();
  return { width: info.width, height: info.height, bytes: info.size };
}

const server = createServer((req, res) => {
  receive(req).then(
    (image) => res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ images: [image] })),
    (err: unknown) => res.writeHead(500).end(String(err)),
  );
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
