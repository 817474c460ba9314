import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, run } from '../helpers/repo';

describe('scripts/pi-image-receiver (the unit\'s ExecStart)', () => {
  let app: string;
  let fakeJemalloc: string;
  before(async () => {
    // The wrapper copied into an app tree whose dist/server/main.js reports what it was started with.
    app = await mkdtemp(join(tmpdir(), 'pir-wrapper-'));
    await mkdir(join(app, 'scripts'));
    await mkdir(join(app, 'dist', 'server'), { recursive: true });
    await copyFile(join(REPO_ROOT, 'scripts', 'pi-image-receiver'), join(app, 'scripts', 'pi-image-receiver'));
    await writeFile(join(app, 'dist', 'server', 'main.js'), `console.log(JSON.stringify({
      pid: process.pid, args: process.argv.slice(2), arenas: process.env.MALLOC_ARENA_MAX, mmap: process.env.MALLOC_MMAP_THRESHOLD_,
      preload: process.env.LD_PRELOAD ?? '', conf: process.env.MALLOC_CONF ?? '' }));`);
    // An empty file stands for the library: the dynamic loader ignores it with a warning.
    fakeJemalloc = join(app, 'libjemalloc.so.2');
    await writeFile(fakeJemalloc, '');
  });
  after(() => rm(app, { recursive: true, force: true }));

  interface Report { pid: number; args: string[]; arenas: string; mmap: string; preload: string; conf: string; wrapperPid: number }

  function start(env: NodeJS.ProcessEnv): Promise<Report> {
    return new Promise((resolve, reject) => {
      const child = spawn('sh', [join(app, 'scripts', 'pi-image-receiver'), '--port', '8123'], {
        env: { PATH: process.env.PATH, NODE: process.execPath, ...env }, stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      child.stdout.on('data', (chunk) => { out += chunk; });
      child.once('error', reject);
      child.once('close', (code) => {
        if (code !== 0) reject(new Error(`wrapper exited with ${code}: ${out}`));
        else resolve({ ...JSON.parse(out) as Report, wrapperPid: child.pid! });
      });
    });
  }

  it('execs node on dist/server/main.js with its flags, as the same process', async () => {
    const report = await start({});
    assert.equal(report.pid, report.wrapperPid);
    assert.deepEqual(report.args, ['--port', '8123']);
  });

  it('sets MALLOC_ARENA_MAX=2 unless the operator set it', async () => {
    assert.equal((await start({})).arenas, '2');
    assert.equal((await start({ MALLOC_ARENA_MAX: '4' })).arenas, '4');
  });

  it('fixes glibc\'s mmap threshold at 64 kB unless the operator set it', async () => {
    assert.equal((await start({})).mmap, '65536');
    assert.equal((await start({ MALLOC_MMAP_THRESHOLD_: '131072' })).mmap, '131072');
  });

  it('preloads jemalloc, returning memory within a second, when the library is there, and not otherwise', async () => {
    const found = await start({ JEMALLOC_LIB: fakeJemalloc });
    assert.equal(found.preload, fakeJemalloc);
    assert.match(found.conf, /dirty_decay_ms:1000/);
    assert.match(found.conf, /background_thread:true/);
    assert.match(found.conf, /tcache:false/);
    assert.equal((await start({ JEMALLOC_LIB: join(app, 'missing.so') })).preload, '');
    assert.equal((await start({ JEMALLOC_LIB: 'off' })).preload, '');
  });

  it('finds the jemalloc of node\'s own architecture, from its ELF header, when installed', async () => {
    const triplets: Record<string, string> = { 183: 'aarch64-linux-gnu', 40: 'arm-linux-gnueabihf', 62: 'x86_64-linux-gnu' };
    const machine = run('od', ['-An', '-tu2', '-j18', '-N2', process.execPath]).stdout.trim();
    assert.ok(triplets[machine], `unexpected ELF machine ${machine} for ${process.execPath}`);
    const library = `/usr/lib/${triplets[machine]}/libjemalloc.so.2`;
    const installed = run('test', ['-r', library]).code === 0;
    assert.equal((await start({})).preload, installed ? library : '');
  });
});
