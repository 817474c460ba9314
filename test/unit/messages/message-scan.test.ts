import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { AppError } from '../../../server/errors';
import { messageType } from '../../../server/messages/image-schemas';
import { scanMessage } from '../../../server/messages/message-scan';

describe('scanMessage', () => {
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-scan-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function fileOf(bytes: Uint8Array): Promise<string> {
    const file = join(dir, `message-${++n}`);
    await writeFile(file, bytes);
    return file;
  }

  it('sets the data field aside, on disk, and keeps every other field, before and after it', async () => {
    // foxglove.RawImage by hand: width (fixed32, 2), encoding, data (6), then frame_id (7) after it.
    const w = protobuf.Writer.create();
    w.uint32((2 << 3) | 5).fixed32(4);
    w.uint32((4 << 3) | 2).string('rgb8');
    w.uint32((6 << 3) | 2).bytes(Buffer.from('the pixels'));
    w.uint32((7 << 3) | 2).string('cam');
    w.uint32((3 << 3) | 5).fixed32(1);
    const file = await fileOf(w.finish());
    const { head, field } = await scanMessage(file, 6, 'foxglove.RawImage');
    assert.ok(field);
    assert.equal((await readFile(file)).subarray(field.offset, field.offset + field.length).toString(), 'the pixels');
    const decoded = messageType('foxglove.RawImage').toObject(messageType('foxglove.RawImage').decode(head)) as Record<string, unknown>;
    assert.deepEqual(decoded, { width: 4, height: 1, encoding: 'rgb8', frame_id: 'cam' });
  });

  it('finds no field in a message without it', async () => {
    const w = protobuf.Writer.create();
    w.uint32((3 << 3) | 2).string('png');
    assert.equal((await scanMessage(await fileOf(w.finish()), 2, 'x')).field, null);
  });

  for (const [name, bytes] of [
    ['a length past the end', Buffer.from([(6 << 3) | 2, 0x90, 0x4e, 1, 2, 3])],
    ['a tag cut short', Buffer.from([0x80])],
    ['a varint cut short', Buffer.from([(1 << 3) | 0, 0xff])],
    ['a group (wire type 3)', Buffer.from([(1 << 3) | 3])],
    ['the data field twice', Buffer.from([(6 << 3) | 2, 1, 0x41, (6 << 3) | 2, 0])],
  ] as const) {
    it(`refuses ${name}`, async () => {
      await assert.rejects(scanMessage(await fileOf(bytes), 6, 'foxglove.RawImage'), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'invalid_parameter');
        assert.match(err.message, /^The body is not a valid foxglove.RawImage message: /);
        return true;
      });
    });
  }
});
