import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, run } from '../helpers/repo';

const UNIT = join(REPO_ROOT, 'systemd', 'pi-image-receiver.service');
const APP = '/opt/pi-image-receiver';

/** Runs systemd-analyze, failing clearly when it is not installed (it comes with Debian's systemd). */
function systemdAnalyze(args: string[]) {
  const result = run('systemd-analyze', args);
  assert.ok(!result.missing, 'systemd-analyze is not installed: `apt-get install systemd` (.ci/run does it)');
  return result;
}

/** The unit's directives: name -> every value it is given, in order. */
function directives(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) map.set(match[1], [...(map.get(match[1]) ?? []), match[2]]);
  }
  return map;
}

function bytes(size: string): number {
  const match = /^(\d+)([KMG])$/.exec(size);
  assert.ok(match, `size ${size}`);
  return Number(match[1]) * 1024 ** ' KMG'.indexOf(match[2]);
}

describe('systemd/pi-image-receiver.service', () => {
  let root: string;
  let text: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pir-unit-'));
    text = await readFile(UNIT, 'utf8');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('passes systemd-analyze verify', async () => {
    // verify checks that ExecStart's program exists and is executable. The unit names its path on
    // the Pi, /opt/pi-image-receiver/scripts/...; this copy names the same wrapper under a temp root.
    await mkdir(join(root, APP, 'scripts'), { recursive: true });
    await copyFile(join(REPO_ROOT, 'scripts', 'pi-image-receiver'), join(root, APP, 'scripts', 'pi-image-receiver'));
    await chmod(join(root, APP, 'scripts', 'pi-image-receiver'), 0o755);
    const copy = join(root, 'pi-image-receiver.service');
    await writeFile(copy, text.split(APP).join(join(root, APP)));
    const result = systemdAnalyze(['verify', copy]);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
  });

  it('is refused by systemd-analyze verify when its program is missing (the check above is real)', async () => {
    const copy = join(root, 'missing-program.service');
    await writeFile(copy, text.split(APP).join(join(root, 'nowhere')));
    const result = systemdAnalyze(['verify', copy]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /nowhere\/scripts\/pi-image-receiver is not executable/);
  });

  it('is hardened: systemd-analyze security rates its exposure at most 2.0 of 10', () => {
    const result = systemdAnalyze(['security', '--offline=true', '--threshold=20', UNIT]);
    assert.equal(result.code, 0, result.stdout.split('\n').filter((line) => line.includes('✗')).join('\n'));
    assert.match(result.stdout, /Overall exposure level for pi-image-receiver.service: [01]\.\d OK/);
  });

  it('waits for the network, restarts with a rate limit, and is a notify service with a watchdog', () => {
    const d = directives(text);
    assert.deepEqual(d.get('Wants'), ['network-online.target']);
    assert.deepEqual(d.get('After'), ['network-online.target']);
    assert.deepEqual(d.get('Restart'), ['on-failure']);
    assert.ok(Number(d.get('StartLimitBurst')?.[0]) > 1 && Number(d.get('StartLimitIntervalSec')?.[0]) > 0);
    assert.deepEqual(d.get('Type'), ['notify']);
    // The notifications come from systemd-notify children, not from the main process.
    assert.deepEqual(d.get('NotifyAccess'), ['all']);
    assert.match(d.get('WatchdogSec')?.[0] ?? '', /^\d+s$/);
    // Longer than the daemon's default SHUTDOWN_GRACE_MS of 10 s, so SIGKILL never cuts it short.
    assert.ok(Number(/^(\d+)s$/.exec(d.get('TimeoutStopSec')?.[0] ?? '')?.[1]) > 10);
    // The stop's SIGTERM reaches the daemon alone, which stops its children in its own time
    // (test/systemd/boot.test.ts shows a display command cut short without it).
    assert.deepEqual(d.get('KillMode'), ['mixed']);
  });

  it('runs as its own user with only its state directory writable, and bounded memory for a 512 MB Pi', () => {
    const d = directives(text);
    assert.deepEqual(d.get('User'), ['pi-image-receiver']);
    assert.deepEqual(d.get('StateDirectory'), ['pi-image-receiver']);
    assert.deepEqual(d.get('Environment')?.filter((e) => e.startsWith('DATA_DIR=')), ['DATA_DIR=/var/lib/pi-image-receiver']);
    assert.deepEqual(d.get('Environment')?.filter((e) => e.startsWith('SETTINGS_FILE=')), ['SETTINGS_FILE=/etc/pi-image-receiver/settings.json']);
    for (const [key, value] of [['ProtectSystem', 'strict'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes'], ['ProtectHome', 'yes']]) {
      assert.deepEqual(d.get(key), [value], key);
    }
    assert.deepEqual(d.get('RestrictAddressFamilies'), ['AF_UNIX AF_INET AF_INET6']);
    assert.equal(d.get('ReadWritePaths'), undefined);
    const high = bytes(d.get('MemoryHigh')![0]);
    const max = bytes(d.get('MemoryMax')![0]);
    assert.ok(high < max && max <= 384 * 1024 ** 2, `MemoryHigh ${high} < MemoryMax ${max} <= 384M`);
    // A worker the kernel kills fails one upload; the unit itself goes on.
    assert.deepEqual(d.get('OOMPolicy'), ['continue']);
    assert.deepEqual(d.get('ExecStart'), [`${APP}/scripts/pi-image-receiver`]);
  });
});
