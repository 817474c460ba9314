import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runtimeFiles } from '../../scripts/runtime-files';
import { startDaemon } from '../helpers/daemon-process';
import { jpegWithOrientation } from '../helpers/fixtures';
import { REPO_ROOT, run } from '../helpers/repo';

const INSTALL = join(REPO_ROOT, 'scripts', 'install.sh');
const UNINSTALL = join(REPO_ROOT, 'scripts', 'uninstall.sh');
const APP = 'opt/pi-image-receiver';
const ACCOUNT_FILES = ['etc/.pwd.lock', 'etc/group', 'etc/gshadow', 'etc/passwd', 'etc/shadow'];

/** Every file under `dir` (relative path -> mode and content hash); symlinks are listed as such. */
async function tree(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isSymbolicLink()) files.set(relative(dir, full), 'symlink');
      else {
        const mode = ((await stat(full)).mode & 0o777).toString(8);
        files.set(relative(dir, full), `${mode} ${createHash('sha256').update(await readFile(full)).digest('hex')}`);
      }
    }
  };
  await walk(dir).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
  return files;
}

function script(path: string, root: string, ...args: string[]) {
  return run('bash', [path, '--root', root, '--no-systemctl', ...args]);
}

describe('scripts/install.sh and scripts/uninstall.sh', () => {
  let dir: string;
  let root: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-install-'));
    root = join(dir, 'root');
    // The tests use the dist/ that `npm test` just built, and no registry: --skip-npm.
    assert.equal((await stat(join(REPO_ROOT, 'dist', 'server', 'main.js'))).isFile(), true);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses a Node.js older than 20.9, says how to get it, and writes nothing', async () => {
    const fakeBin = join(dir, 'old-node');
    await mkdir(fakeBin);
    await writeFile(join(fakeBin, 'node'), '#!/bin/sh\necho v18.19.0\n');
    await chmod(join(fakeBin, 'node'), 0o755);
    const oldRoot = join(dir, 'old-root');
    const result = run('bash', [INSTALL, '--root', oldRoot, '--no-systemctl', '--skip-npm'], {
      env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Node\.js v18\.19\.0 .* is too old; 20\.9 or newer is needed/);
    assert.match(result.stderr, /deb\.nodesource\.com\/setup_24\.x/);
    assert.deepEqual([...(await tree(oldRoot)).keys()], []);
  });

  it('installs the program, the user, the operator files and the unit, and nothing else', async () => {
    const result = script(INSTALL, root, '--skip-npm');
    assert.equal(result.code, 0, result.stderr);
    const installed = await tree(root);

    // The program is exactly what scripts/runtime-files.txt lists.
    const program = new Map<string, string>();
    for (const item of runtimeFiles(REPO_ROOT)) {
      const source = join(REPO_ROOT, item);
      if ((await stat(source)).isDirectory()) for (const [path, digest] of await tree(source)) program.set(`${APP}/${item}/${path}`, digest);
      else program.set(`${APP}/${item}`, (await tree(join(source, '..'))).get(basename(item))!);
    }
    const expected = [
      ...program.keys(), ...ACCOUNT_FILES,
      'etc/pi-image-receiver/environment', 'etc/pi-image-receiver/settings.json',
      'etc/systemd/system/pi-image-receiver.service', 'usr/lib/sysusers.d/pi-image-receiver.conf',
    ].sort();
    assert.deepEqual([...installed.keys()].sort(), expected);

    // The program is the checkout's, readable by all; only the wrapper is executable.
    for (const [path, digest] of program) {
      const [, hash] = digest.split(' ');
      const [mode, installedHash] = installed.get(path)!.split(' ');
      assert.equal(installedHash, hash, path);
      assert.equal(mode, path === `${APP}/scripts/pi-image-receiver` ? '755' : '644', path);
    }
    const file = (path: string) => readFile(join(root, path), 'utf8');
    assert.equal(await file('etc/systemd/system/pi-image-receiver.service'), await readFile(join(REPO_ROOT, 'systemd', 'pi-image-receiver.service'), 'utf8'));
    assert.deepEqual(JSON.parse(await file('etc/pi-image-receiver/settings.json')), JSON.parse(await readFile(join(REPO_ROOT, 'config', 'defaults.json'), 'utf8')));
    assert.equal(installed.get('etc/pi-image-receiver/environment')!.split(' ')[0], '600');
    assert.match(await file('etc/pi-image-receiver/environment'), /^#PORT=8000$/m);
    assert.match(await file('etc/passwd'), /^pi-image-receiver:x:(\d+):\d+:[^:]*:\/var\/lib\/pi-image-receiver:\/usr\/sbin\/nologin$/m);
    assert.match(await file('etc/group'), /^pi-image-receiver:x:\d+:$/m);
  });

  it('installs a copy that starts through its wrapper, reads the /etc settings and stores images', async () => {
    // --skip-npm installed no node_modules: lend the checkout's for this run only.
    const modules = join(root, APP, 'node_modules');
    await symlink(join(REPO_ROOT, 'node_modules'), modules);
    const settingsFile = join(root, 'etc/pi-image-receiver/settings.json');
    await writeFile(settingsFile, '{ "max_image_dimension": 48 }\n');
    const state = join(root, 'var/lib/pi-image-receiver');
    const daemon = await startDaemon(state, { SETTINGS_FILE: settingsFile }, [], [join(root, APP, 'scripts/pi-image-receiver')]);
    try {
      const response = await fetch(`${daemon.url}/images?source=install`, { method: 'POST', body: await jpegWithOrientation(6), headers: { 'Content-Type': 'image/jpeg' } });
      assert.equal(response.status, 201);
      const { images: [image] } = await response.json() as { images: Array<{ width: number; height: number }> };
      assert.equal(Math.max(image.width, image.height), 48);
      const config = await (await fetch(`${daemon.url}/config`)).json() as { max_image_dimension: number };
      assert.equal(config.max_image_dimension, 48);
    } finally {
      await daemon.stop();
      await unlink(modules);
    }
    assert.equal((await readdir(join(state, 'images'))).filter((name) => name.endsWith('.png')).length, 1);
  });

  it('runs again as an upgrade that changes nothing an operator edited, nor anything else', async () => {
    await writeFile(join(root, 'etc/pi-image-receiver/settings.json'), '{ "max_image_dimension": 800 }\n');
    await writeFile(join(root, 'etc/pi-image-receiver/environment'), 'PORT=8080\n');
    const before = await tree(root);
    const result = script(INSTALL, root, '--skip-npm');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await tree(root), before);
  });

  it('adds the display drop-in while a display has a command, and removes it after', async () => {
    const settingsFile = join(root, 'etc/pi-image-receiver/settings.json');
    const edited = await readFile(settingsFile, 'utf8');
    const dropIn = join(root, 'etc/systemd/system/pi-image-receiver.service.d/50-display-devices.conf');
    // A group the panel's devices belong to on Raspberry Pi OS; the others do not exist here.
    await writeFile(join(root, 'etc/group'), `${await readFile(join(root, 'etc/group'), 'utf8')}gpio:x:997:\n`);
    await writeFile(settingsFile, JSON.stringify({ displays: [{ name: 'ecal', preset: 'waveshare-13in3-e6', command: ['/usr/bin/python3', '/home/pi/display_image.py', '{frame}'] }] }));
    let result = script(INSTALL, root, '--skip-npm');
    assert.equal(result.code, 0, result.stderr);
    const text = await readFile(dropIn, 'utf8');
    assert.match(text, /^PrivateDevices=no$/m);
    assert.match(text, /^DevicePolicy=closed$/m);
    for (const device of ['char-spi', 'char-gpiochip', '/dev/gpiomem']) assert.match(text, new RegExp(`^DeviceAllow=${device} rw$`, 'm'));
    assert.match(text, /^SupplementaryGroups=gpio$/m);
    // The unit with its drop-in beside it, as systemd loads them, verifies clean.
    const copy = join(dir, 'verify');
    await mkdir(join(copy, 'pi-image-receiver.service.d'), { recursive: true });
    const unit = (await readFile(join(root, 'etc/systemd/system/pi-image-receiver.service'), 'utf8')).split('/opt/pi-image-receiver').join(join(root, APP));
    await writeFile(join(copy, 'pi-image-receiver.service'), unit);
    await writeFile(join(copy, 'pi-image-receiver.service.d', '50-display-devices.conf'), text);
    const verify = run('systemd-analyze', ['verify', join(copy, 'pi-image-receiver.service')]);
    assert.equal(verify.stderr, '');
    assert.equal(verify.code, 0);
    // ... and the check is real: systemd reads the drop-in.
    await writeFile(join(copy, 'pi-image-receiver.service.d', '50-display-devices.conf'), text.replace('char-spi rw', 'char-spi bogus'));
    assert.match(run('systemd-analyze', ['verify', join(copy, 'pi-image-receiver.service')]).stderr, /Invalid device rights 'bogus'/);

    await writeFile(settingsFile, edited);
    result = script(INSTALL, root, '--skip-npm');
    assert.equal(result.code, 0, result.stderr);
    await assert.rejects(stat(dropIn), { code: 'ENOENT' });
    await assert.rejects(stat(join(root, 'etc/systemd/system/pi-image-receiver.service.d')), { code: 'ENOENT' });
    await writeFile(join(root, 'etc/group'), (await readFile(join(root, 'etc/group'), 'utf8')).replace('gpio:x:997:\n', ''));
  });

  it('uninstalls the program and the unit, keeping images, settings and user', async () => {
    const before = await tree(root);
    const result = script(UNINSTALL, root);
    assert.equal(result.code, 0, result.stderr);
    const kept = [...before.keys()].filter((path) => !path.startsWith(`${APP}/`) && path !== 'etc/systemd/system/pi-image-receiver.service');
    assert.deepEqual([...(await tree(root)).keys()].sort(), kept.sort());
    assert.ok(kept.some((path) => path.startsWith('var/lib/pi-image-receiver/images/') && path.endsWith('.png')));
    assert.match(await readFile(join(root, 'etc/passwd'), 'utf8'), /^pi-image-receiver:/m);
  });

  it('with --purge also deletes the images, the settings and the user', async () => {
    const result = script(UNINSTALL, root, '--purge');
    assert.equal(result.code, 0, result.stderr);
    const left = [...(await tree(root)).keys()];
    assert.deepEqual(left.filter((path) => !path.startsWith('etc/') || /pi-image-receiver/.test(path)), []);
    for (const accounts of ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow']) {
      assert.doesNotMatch(await readFile(join(root, accounts), 'utf8'), /pi-image-receiver/, accounts);
    }
  });
});
