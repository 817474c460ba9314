import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyRuntimeFiles, runtimeFiles } from '../../scripts/runtime-files';
import { startDaemon, type DaemonProcess } from '../helpers/daemon-process';
import { jpegWithOrientation } from '../helpers/fixtures';
import { REPO_ROOT, run } from '../helpers/repo';

/**
 * A node_modules for a copy, as `npm ci --omit=dev` would leave it for this test's purpose: the
 * checkout's packages linked one by one, without the compiler, so the copy cannot build.
 */
async function productionModules(copy: string): Promise<void> {
  const modules = join(copy, 'node_modules');
  await mkdir(modules);
  for (const name of await readdir(join(REPO_ROOT, 'node_modules'))) {
    if (name === 'typescript' || name.startsWith('.')) continue;
    await symlink(join(REPO_ROOT, 'node_modules', name), join(modules, name));
  }
}

/** Posts a turned JPEG and returns the status and the stored width and height. */
async function postImage(daemon: DaemonProcess): Promise<{ status: number; size: number }> {
  const response = await fetch(`${daemon.url}/images?source=copy`, { method: 'POST', body: await jpegWithOrientation(6), headers: { 'Content-Type': 'image/jpeg' } });
  const body = await response.json() as { images?: Array<{ width: number; height: number }> };
  return { status: response.status, size: body.images ? Math.max(body.images[0].width, body.images[0].height) : 0 };
}

/** The pids of `pid`'s children. */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

describe('scripts/runtime-files.txt: the one list of what the daemon needs at run time', () => {
  let dir: string;
  let copy: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-runtime-'));
    copy = join(dir, 'app');
    copyRuntimeFiles(REPO_ROOT, copy);
    await productionModules(copy);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lists the compiled daemon, its views, the start wrapper and nothing of the sources or tests', () => {
    const paths = runtimeFiles(REPO_ROOT);
    for (const path of ['dist/server', 'config', 'views', 'scripts/pi-image-receiver', 'package.json']) assert.ok(paths.includes(path), path);
    assert.deepEqual(paths.filter((path) => /^(server|test|dist\/test|node_modules)(\/|$)/.test(path)), []);
  });

  it('is enough for the daemon: a copy of it alone starts through the wrapper and stores an image', async () => {
    const data = join(dir, 'data-wrapper');
    const daemon = await startDaemon(data, { MAX_IMAGE_DIMENSION: '48' }, [], [join(copy, 'scripts', 'pi-image-receiver')]);
    try {
      assert.deepEqual(await postImage(daemon), { status: 201, size: 48 });
      const page = await fetch(`${daemon.url}/`);
      assert.equal(page.status, 200);
    } finally {
      await daemon.stop();
    }
    assert.equal((await readdir(join(data, 'images'))).filter((name) => name.endsWith('.png')).length, 1);
  });

  it('`npm start` in the copy, without TypeScript, execs the wrapper: the daemon has the unit\'s allocator environment', async () => {
    const data = join(dir, 'data-npm');
    // No MALLOC_* here, whatever the test runner was started with: the wrapper must set them.
    const env: NodeJS.ProcessEnv = { MAX_IMAGE_DIMENSION: '48', MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined };
    const daemon = await startDaemon(data, env, [], ['npm', '--prefix', copy, 'start']);
    try {
      assert.deepEqual(await postImage(daemon), { status: 201, size: 48 });
      // npm's child is node itself (the script execs the wrapper, which execs node): one process.
      const [pid] = await childrenOf(daemon.pid);
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      // The wrapper's V8 flag for the daemon's young generation, then the daemon.
      assert.deepEqual(cmdline.slice(1, 3), ['--max-semi-space-size=1', join(copy, 'dist', 'server', 'main.js')]);
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      assert.ok(environ.includes('MALLOC_ARENA_MAX=2'), 'MALLOC_ARENA_MAX=2');
      assert.ok(environ.includes('MALLOC_MMAP_THRESHOLD_=65536'), 'MALLOC_MMAP_THRESHOLD_=65536');
    } finally {
      await daemon.stop();
    }
    assert.match(daemon.output(), /stopped cleanly/);
  });

  it('`npm start` without a build and without TypeScript says what to do and exits 1', async () => {
    const bare = join(dir, 'bare');
    copyRuntimeFiles(REPO_ROOT, bare);
    await rm(join(bare, 'dist'), { recursive: true });
    await writeFile(join(bare, 'tsconfig.json'), '{}\n');
    const result = run(process.execPath, [join(bare, 'scripts', 'build-if-stale.js')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /dist\/server\/main\.js is missing and TypeScript is not installed.*npm install/);
  });

  it('builds only when a source is newer than what it compiles to, and a compiler is there', async () => {
    // A checkout-like copy whose compiler records that it ran instead of compiling.
    const checkout = join(dir, 'checkout');
    copyRuntimeFiles(REPO_ROOT, checkout);
    await mkdir(join(checkout, 'server'));
    await writeFile(join(checkout, 'server', 'main.ts'), '// the source of dist/server/main.js\n');
    await writeFile(join(checkout, 'tsconfig.json'), '{}\n');
    const tsc = join(checkout, 'node_modules', 'typescript', 'bin', 'tsc');
    await mkdir(join(tsc, '..'), { recursive: true });
    await writeFile(tsc, `require('node:fs').appendFileSync(${JSON.stringify(join(dir, 'tsc-runs'))}, process.argv.slice(2).join(' ') + '\\n');\n`);
    await chmod(tsc, 0o755);
    const runs = async (): Promise<string[]> => (await readFile(join(dir, 'tsc-runs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const buildIfStale = (): number | null => run(process.execPath, [join(checkout, 'scripts', 'build-if-stale.js')]).code;

    const past = new Date(Date.now() - 3600_000);
    await utimes(join(checkout, 'server', 'main.ts'), past, past);
    assert.equal(buildIfStale(), 0);
    assert.deepEqual(await runs(), [], 'up to date: no build');

    const future = new Date(Date.now() + 3600_000);
    await utimes(join(checkout, 'server', 'main.ts'), future, future);
    assert.equal(buildIfStale(), 0);
    assert.deepEqual(await runs(), [`-p ${checkout}`], 'main.ts newer than main.js: one build');
  });
});
