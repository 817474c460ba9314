import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, run } from '../helpers/repo';

interface LockEntry {
  version?: string; integrity?: string; dev?: boolean; optional?: boolean; hasInstallScript?: boolean;
  os?: string[]; cpu?: string[]; libc?: string[]; optionalDependencies?: Record<string, string>;
}

/** Raspberry Pi OS: 64-bit is linux/arm64, 32-bit is linux/arm (ARMv7, hard float); both glibc. */
const PI_TARGETS = [{ cpu: 'arm64', name: 'linux-arm64' }, { cpu: 'arm', name: 'linux-arm' }];

describe('package-lock.json on a Raspberry Pi', () => {
  let packages: Record<string, LockEntry>;
  let dir: string;
  before(async () => {
    packages = (JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
    dir = await mkdtemp(join(tmpdir(), 'pir-lock-'));
    await copyFile(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
    await copyFile(join(REPO_ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const { name, cpu } of PI_TARGETS) {
    it(`pins sharp's prebuilt ${name} packages, with integrity`, () => {
      const sharp = packages['node_modules/sharp'];
      for (const pkg of [`@img/sharp-${name}`, `@img/sharp-libvips-${name}`]) {
        const entry = packages[`node_modules/${pkg}`];
        assert.ok(entry, `${pkg} is missing from package-lock.json`);
        assert.match(entry.integrity ?? '', /^sha512-/, pkg);
        assert.deepEqual([entry.os, entry.cpu, entry.libc], [['linux'], [cpu], ['glibc']], pkg);
        // sharp asks for its platform package, which asks for its libvips.
        const wanted = sharp.optionalDependencies?.[pkg] ?? packages[`node_modules/@img/sharp-${name}`].optionalDependencies?.[pkg];
        assert.equal(entry.version, wanted, `${pkg} matches what sharp asks for`);
      }
    });

    it(`resolves for --os=linux --cpu=${cpu} with npm ci, offline, to the ${name} binaries only`, () => {
      // A dry run reads only the lockfile (an empty cache and --offline prove no download is needed).
      const result = run('npm', ['ci', '--dry-run', '--offline', '--omit=dev', '--no-audit', '--no-fund',
        '--os=linux', `--cpu=${cpu}`, '--libc=glibc', '--cache', join(dir, `cache-${cpu}`)], { cwd: dir });
      assert.ok(!result.missing, 'npm is not on PATH');
      assert.equal(result.code, 0, result.stderr);
      const added = result.stdout.split('\n').filter((line) => line.startsWith('add @img/sharp-')).map((line) => line.split(' ')[1]).sort();
      assert.deepEqual(added, [`@img/sharp-${name}`, `@img/sharp-libvips-${name}`].sort());
      assert.match(result.stdout, /^add sharp /m);
    });
  }

  it('has no dependency that runs an install script (which could compile on the Pi)', () => {
    const scripted = Object.entries(packages).filter(([, entry]) => entry.hasInstallScript).map(([path]) => path);
    assert.deepEqual(scripted, []);
  });
});
