import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '../helpers/daemon-process';
import { jpegWithOrientation } from '../helpers/fixtures';

const TOKEN = 's3cret-token-for-the-log-test';
const WRONG = 's3cret-token-for-the-log-tesT';

describe('the daemon log for journald', () => {
  let dataDir: string;
  before(async () => { dataDir = await mkdtemp(join(tmpdir(), 'pir-log-')); });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('writes one prioritized line per request and per stored image, without timestamps or secrets', async () => {
    const daemon = await startDaemon(dataDir, { JOURNAL_STREAM: '8:12345', LOG_LEVEL: 'debug', API_TOKEN: TOKEN });
    const secretly = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'image/jpeg' };
    let image: { id: string; bytes: number; width: number; height: number };
    try {
      const jpeg = await jpegWithOrientation(6);
      const stored = await fetch(`${daemon.url}/images?source=cam1&access_token=${TOKEN}`, { method: 'POST', body: jpeg, headers: secretly });
      assert.equal(stored.status, 201);
      [image] = (await stored.json() as { images: Array<typeof image> }).images;
      const refused = await fetch(`${daemon.url}/images?source=cam1&access_token=${TOKEN}`, { method: 'POST', body: Buffer.from('not an image'), headers: secretly });
      assert.equal(refused.status, 415);
      assert.equal((await fetch(`${daemon.url}/health?access_token=${TOKEN}`)).status, 200);
      // A client that sends the token, or a guess of it, where it does not belong.
      assert.equal((await fetch(`${daemon.url}/nowhere/${TOKEN}`)).status, 404);
      assert.equal((await fetch(`${daemon.url}/nowhere/${WRONG}`)).status, 404);
    } finally {
      assert.deepEqual(await daemon.stop(), { code: 0, signal: null });
    }
    const lines = daemon.output().trim().split('\n');
    for (const line of lines) {
      assert.match(line, /^<[3467]>/, `no syslog priority: ${line}`);
      assert.doesNotMatch(line, /\d{4}-\d\d-\d\dT\d\d:\d\d/, `journald adds the timestamp: ${line}`);
      // The daemon itself never writes the token; a path quotes what the client sent, below.
      if (!line.includes(' /nowhere/')) assert.ok(!line.includes(TOKEN), `secret logged: ${line}`);
    }
    const uploads = lines.filter((line) => line.includes(' /images '));
    assert.equal(uploads.length, 2, uploads.join('\n'));
    assert.match(uploads[0], new RegExp(`^<6>POST /images 201 \\d+ms \\d+B in=${(await jpegWithOrientation(6)).length}B source=cam1$`));
    assert.match(uploads[1], /^<6>POST \/images 415 \d+ms \d+B in=12B source=cam1 unsupported_media_type: .+$/);
    const storedLine = new RegExp(`^<6>stored ${image.id} source=cam1 ${image.width}x${image.height} ${image.bytes}B \\d+ms$`);
    assert.equal(lines.filter((line) => storedLine.test(line)).length, 1, lines.join('\n'));
    assert.equal(lines.filter((line) => /^<7>GET \/health 200 /.test(line)).length, 1);
    // The token and a wrong guess of it give lines of the same form: the log tells nobody which was right.
    const guessed = (word: string) => lines.filter((line) => line.startsWith(`<6>GET /nowhere/${word} 404 `))
      .map((line) => line.split(word).join('WORD').replace(/ \d+ms /, ' Nms '));
    assert.equal(guessed(TOKEN).length, 1, lines.join('\n'));
    assert.deepEqual(guessed(TOKEN), guessed(WRONG));
    assert.match(guessed(TOKEN)[0], /^<6>GET \/nowhere\/WORD 404 Nms \d+B not_found: Nothing at GET \/nowhere\/WORD$/);
  });

  it('prints start-up failures at priority error under journald', async () => {
    const daemon = startDaemon(dataDir, { JOURNAL_STREAM: '8:12345', COMPRESSION_QUALITY: '12' });
    await assert.rejects(daemon, /<3>pi-image-receiver cannot start: .*compression_quality/);
  });
});
