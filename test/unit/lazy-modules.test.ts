import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const SERVER = join(__dirname, '..', '..', 'server');

/** The packages a fresh process has loaded after requiring `modules`. */
function packagesLoadedBy(modules: string[]): string[] {
  const script = `${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}
    const names = Object.keys(require.cache).filter((f) => f.includes('/node_modules/'))
      .map((f) => f.split('/node_modules/').pop().split('/').slice(0, f.includes('/node_modules/@') ? 2 : 1).join('/'));
    process.stdout.write(JSON.stringify([...new Set(names)]));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
}

describe('start-up modules', () => {
  it('the daemon loads its multipart parser (busboy) only for a multipart upload', () => {
    const atStart = packagesLoadedBy([join(SERVER, 'app.js'), join(SERVER, 'services.js')]);
    assert.ok(atStart.includes('koa'), atStart.join(' '));
    for (const lazy of ['busboy', 'streamsearch']) assert.ok(!atStart.includes(lazy), `${lazy} loaded at start`);
  });

  it('the daemon loads the protocol, schema and page modules only when first used', () => {
    const atStart = packagesLoadedBy([join(SERVER, 'app.js'), join(SERVER, 'services.js')]);
    for (const lazy of ['ejs', 'zod', 'protobufjs', 'mqtt']) assert.ok(!atStart.includes(lazy), `${lazy} loaded at start`);
  });

  it('the daemon loads sharp (libvips) only when it first does image work of its own: uploads are processed in the image worker', () => {
    const atStart = packagesLoadedBy([join(SERVER, 'app.js'), join(SERVER, 'services.js')]);
    assert.ok(!atStart.includes('sharp'), 'sharp loaded at start');
  });

  it('the daemon loads MQTT.js only when mqtt_url is set', () => {
    const atStart = packagesLoadedBy([join(SERVER, 'app.js'), join(SERVER, 'services.js'), join(SERVER, 'mqtt', 'mqtt-connection.js')]);
    assert.ok(!atStart.includes('mqtt'), 'mqtt loaded at start');
  });
});
