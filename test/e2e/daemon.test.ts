import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { photoLike } from '../helpers/fixtures';
import { runDaemon, startDaemon } from '../helpers/daemon-process';

describe('the compiled daemon', () => {
  let dataDir: string;
  before(async () => { dataDir = await mkdtemp(join(tmpdir(), 'pir-e2e-')); });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('prints its flags and variables with --help', async () => {
    const { code, output } = await runDaemon({}, ['--help']);
    assert.equal(code, 0);
    for (const word of ['--port', 'PORT', 'DATA_DIR', '--settings-file', 'MAX_IMAGE_DIMENSION', 'LOG_LEVEL']) {
      assert.ok(output.includes(word), word);
    }
  });

  it('refuses to start on bad settings, naming every bad key in one line', async () => {
    const { code, output } = await runDaemon({ DATA_DIR: dataDir, COMPRESSION_QUALITY: '11', MAX_IMAGE_DIMENSION: 'big' }, []);
    assert.equal(code, 1);
    const lines = output.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /compression_quality/);
    assert.match(lines[0], /max_image_dimension/);
  });

  it('listens where PORT, HOST and DATA_DIR say, and on SIGTERM finishes the upload in flight, then exits 0', async () => {
    const daemon = await startDaemon(dataDir);
    try {
      assert.deepEqual(await (await fetch(`${daemon.url}/health`)).json(), { status: 'ok' });
      const jpeg = await photoLike(1600, 1200);
      // Send half the body, stop the daemon, then send the rest: the upload must still be stored.
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${daemon.url}/images?source=sigterm`, {
          method: 'POST', headers: { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length },
        }, (res) => {
          let body = '';
          res.on('data', (chunk) => { body += chunk; });
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.write(jpeg.subarray(0, jpeg.length >> 1));
        setTimeout(() => {
          daemon.child.kill('SIGTERM');
          setTimeout(() => req.end(jpeg.subarray(jpeg.length >> 1)), 200);
        }, 200);
      });
      const { status, body } = await response;
      assert.equal(status, 201, body);
      const exit = await daemon.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      const { images: [image] } = JSON.parse(body) as { images: Array<{ id: string }> };
      assert.deepEqual((await readdir(join(dataDir, 'images'))).sort(), [`${image.id}.json`, `${image.id}.png`]);
      assert.match(daemon.output(), /SIGTERM: stopping/);
    } finally {
      await daemon.stop();
    }
  });
});
