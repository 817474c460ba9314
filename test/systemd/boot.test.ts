import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jpegWithOrientation } from '../helpers/fixtures';
import { freePort } from '../helpers/mosquitto';
import { bootContainer, findSystemdRoot, hostNode, nspawnUnavailable, waitFor, type BootedContainer, type ExecResult } from '../helpers/nspawn';
import { REPO_ROOT } from '../helpers/repo';
import { labelsWanted } from '../../server/labels/models-dir';

// The unit, the installer and the daemon under a real systemd (Debian's, as on Raspberry Pi OS),
// booted in a container: one boot and one install for the whole file, the cases in order.

const NAME = 'pi-image-receiver';
const STATE = `/var/lib/${NAME}`;
const ETC = `/etc/${NAME}`;
const CHECKOUT = `/usr/src/${NAME}`;
const DROPINS = `/etc/systemd/system/${NAME}.service.d`;
// The container sees the host's memory: on 1 GB or more, labels' `auto` is on, so install.sh
// installs the label models and raises the memory limits with its labels drop-in (docs/labels.md).
const LABELS_ON = labelsWanted({ labels: 'auto' });
const MEMORY_MAX_MB = LABELS_ON ? 640 : 320;
/** Device nodes made in the container's /dev, mode 0666 so that only the device cgroup decides: */
const DEVICES = [
  // an e-paper panel's SPI bus (spidev's real major; this kernel has no SPI driver, so no open);
  { node: 'spidev0.0', mknod: ['c', '153', '0'] },
  // named by path in the drop-in's DeviceAllow= (a major no driver has here: opening it past the cgroup gives ENXIO);
  { node: 'gpiomem', mknod: ['c', '240', '0'] },
  // never allowed: the physical memory and a disk.
  { node: 'mem', mknod: ['c', '1', '1'] },
  { node: 'loop0', mknod: ['b', '7', '0'] },
];
/**
 * The display command: reports, into the state directory (the one place it may write), where the
 * service can write and which device nodes it sees and may open; then exits 3, a failure the
 * daemon logs at warning priority.
 */
const PROBE = `out=${STATE}/probe-$1.txt
for dir in ${STATE} /opt/${NAME} ${ETC} /usr/local/bin /var/lib /tmp; do
  if touch "$dir/.probe" 2>/dev/null; then echo "write $dir ok"; else echo "write $dir refused"; fi
done > "$out"
for node in ${DEVICES.map((device) => device.node).join(' ')}; do
  if [ ! -e /dev/$node ]; then echo "dev $node absent"
  elif error=$( (: < /dev/$node) 2>&1 ); then echo "dev $node opened"
  else echo "dev $node $error"; fi
done >> "$out"
exit 3`;

/** A display command that takes 2 s and says whether a SIGTERM cut it short. */
const SLOW_COMMAND = `out=${STATE}/slow-$1.txt
trap 'echo term >> "$out"; exit 143' TERM
echo started > "$out"
sleep 2 & wait
echo done >> "$out"`;

/** A display command that fills memory, 16 MB at a time, up to 1 GB: far past MemoryMax (320M). */
const HOG = 'const held = []; for (let i = 0; i < 64; i++) held.push(Buffer.alloc(16 << 20, 1));';

const unavailable = nspawnUnavailable();
// CI's machine is root with systemd-nspawn and the root .ci/run built: there the test must run.
const skip = process.env.CI ? false : unavailable ?? false;

describe(`${NAME}.service under systemd in a container`, { skip }, () => {
  let container: BootedContainer;
  let port: number;
  let base: string;
  let install: ExecResult;
  const acknowledged: string[] = [];

  const sh = (script: string): Promise<ExecResult> => container.exec(['sh', '-c', script]);
  const systemctl = (...args: string[]): Promise<ExecResult> => container.exec(['systemctl', ...args]);
  const property = async (name: string): Promise<string> => (await systemctl('show', '--value', '-p', name, NAME)).stdout.trim();
  const readInside = (path: string): string => readFileSync(container.path(path), 'utf8');
  const serviceUid = (): number => Number(readInside('/etc/passwd').split('\n').find((line) => line.startsWith(`${NAME}:`))?.split(':')[2]);
  const runInstaller = (): Promise<ExecResult> =>
    container.exec(['bash', `${CHECKOUT}/scripts/install.sh`, '--skip-build'], { env: { npm_config_prefer_offline: 'true' }, timeoutMs: 180_000 });

  async function upload(width: number): Promise<string> {
    const response = await fetch(`${base}/images`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: await jpegWithOrientation(6, width, 48) });
    assert.equal(response.status, 201, await response.clone().text());
    const id = ((await response.json()) as { images: { id: string }[] }).images[0].id;
    acknowledged.push(id);
    return id;
  }

  async function probe(): Promise<Map<string, string>> {
    const id = await upload(80 + acknowledged.length);
    const file = container.path(`${STATE}/probe-${id}.txt`);
    assert.ok(await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('dev loop0'), 30_000), 'the display command never ran');
    return new Map(readFileSync(file, 'utf8').trim().split('\n').map((line) => {
      const [, what, result] = /^(\S+ \S+) (.*)$/.exec(line)!;
      return [what, result];
    }));
  }

  before(async () => {
    assert.equal(unavailable, undefined, `the container cannot be booted: ${unavailable}`);
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const node = hostNode();
    const npmCache = process.env.npm_config_cache ?? join(homedir(), '.npm');
    mkdirSync(npmCache, { recursive: true });
    container = await bootContainer(findSystemdRoot()!, {
      binds: [
        ...node.binds,
        // The checkout as it is after `npm ci && npm run build` (install.sh --skip-build reads only).
        { host: REPO_ROOT, inside: CHECKOUT, readOnly: true },
        // npm ci --omit=dev in /opt takes the packages from the cache `npm ci` filled here.
        { host: npmCache, inside: '/root/.npm', readOnly: false },
      ],
      links: node.links,
    });
    // The operator's environment file before the first install (the installer keeps it): the
    // container shares this host's network, so a free port, on loopback only.
    const prepared = await sh(`mkdir -p ${ETC} && install -m 0600 /dev/null ${ETC}/environment && printf 'PORT=${port}\\nHOST=127.0.0.1\\n' > ${ETC}/environment
      ${DEVICES.map((device) => `mknod -m 0666 /dev/${device.node} ${device.mknod.join(' ')}`).join('\n')}`);
    assert.equal(prepared.code, 0, prepared.stderr);
    install = await runInstaller();
  });

  after(async () => {
    await container?.stop();
  });

  it('scripts/install.sh installs, enables and starts the service as its own user', async () => {
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    assert.match(install.stdout, /pi-image-receiver is running\./);
    assert.equal((await systemctl('is-enabled', NAME)).stdout.trim(), 'enabled');
    assert.equal(await property('ActiveState'), 'active');
    assert.match(readInside('/etc/passwd'), new RegExp(`^${NAME}:x:\\d+:\\d+:[^:]*:${STATE}:/usr/sbin/nologin$`, 'm'));
    assert.ok(existsSync(container.path(`/opt/${NAME}/node_modules/sharp/package.json`)), 'npm ci --omit=dev installed sharp');
    assert.match(readInside(`${ETC}/environment`), new RegExp(`^PORT=${port}$`, 'm'), 'the operator\'s file is kept');
    assert.deepEqual(JSON.parse(readInside(`${ETC}/settings.json`)), JSON.parse(readFileSync(join(REPO_ROOT, 'config', 'defaults.json'), 'utf8')));
    assert.equal(existsSync(container.path(`${DROPINS}/60-labels-memory.conf`)), LABELS_ON, 'the labels drop-in where labels are on');
    assert.equal(existsSync(container.path(`/opt/${NAME}/models`)), LABELS_ON, 'the label models where labels are on');
  });

  it('systemctl start returns only once the daemon is ready, and status shows its status text', async () => {
    assert.equal((await systemctl('stop', NAME)).code, 0);
    await assert.rejects(fetch(`${base}/health`), 'stopped, nothing listens');
    const started = await systemctl('start', NAME);
    assert.equal(started.code, 0, started.stderr);
    // Type=notify: start waited for READY=1, sent once the daemon listens.
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.match(await property('StatusText'), new RegExp(`^listening on http://127\\.0\\.0\\.1:${port}, \\d+ images$`));
    assert.match((await systemctl('status', '--no-pager', NAME)).stdout, /Status: "listening on http:\/\/127\.0\.0\.1:\d+, \d+ images"/);
  });

  it('stores an upload under the StateDirectory, owned by the service user', async () => {
    const id = await upload(64);
    const png = statSync(container.path(`${STATE}/images/${id}.png`));
    assert.equal(png.uid, serviceUid());
    assert.equal(png.mode & 0o027, 0, 'UMask=0027');
    const state = statSync(container.path(STATE));
    assert.equal(state.uid, serviceUid());
    assert.equal(state.mode & 0o777, 0o750, 'StateDirectoryMode=0750');
  });

  it('kills a hung daemon with the watchdog and restarts it; every image acknowledged before is still listed', async () => {
    // A 4 s watchdog, and SIGKILL 2 s after the SIGABRT (which a stopped process keeps pending).
    await sh(`mkdir -p ${DROPINS} && printf '[Service]\\nWatchdogSec=4s\\nTimeoutAbortSec=2s\\nRestartSec=1s\\n' > ${DROPINS}/90-test-watchdog.conf && systemctl daemon-reload && systemctl restart ${NAME}`);
    await upload(66);
    await upload(68);
    const hungPid = await property('MainPID');
    const restarts = Number(await property('NRestarts'));
    assert.equal((await systemctl('kill', '--kill-who=main', '-s', 'SIGSTOP', NAME)).code, 0);
    assert.ok(await waitFor(async () => Number(await property('NRestarts')) > restarts && (await property('ActiveState')) === 'active', 60_000, 250), 'restarted');
    assert.notEqual(await property('MainPID'), hungPid);
    assert.match((await container.exec(['journalctl', '-u', NAME, '--no-pager', '-o', 'cat'])).stdout, /Watchdog timeout/);
    const listed = ((await (await fetch(`${base}/images?limit=1000`)).json()) as { images: { id: string }[] }).images.map((image) => image.id);
    for (const id of acknowledged) assert.ok(listed.includes(id), `${id} listed after the restart`);
    await sh(`rm ${DROPINS}/90-test-watchdog.conf && systemctl daemon-reload && systemctl restart ${NAME}`);
  });

  it('systemctl stop lets an upload in flight finish', async () => {
    // One image first, so that the image worker runs when the stop comes (it is started on demand).
    await upload(72);
    const body = await jpegWithOrientation(1, 70, 48);
    let stop: Promise<ExecResult> | undefined;
    let stopping: Promise<boolean> | undefined;
    const answer = new Promise<number>((resolve, reject) => {
      const req = request(`${base}/images`, { method: 'POST', headers: { 'content-type': 'image/jpeg', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      // Half the body, then the stop, then the rest once systemd is stopping the service.
      req.write(body.subarray(0, body.length >> 1), () => {
        stop = systemctl('stop', NAME);
        stopping = waitFor(async () => (await property('ActiveState')) === 'deactivating', 10_000, 50);
        void stopping.then(() => req.end(body.subarray(body.length >> 1)));
      });
    });
    assert.ok(await waitFor(() => stopping !== undefined, 10_000, 20));
    assert.ok(await stopping, 'the stop began while the upload was in flight');
    assert.equal(await answer, 201);
    assert.equal((await stop!).code, 0);
    assert.equal(await property('ActiveState'), 'inactive');
    assert.equal(await property('Result'), 'success');
    assert.equal((await systemctl('start', NAME)).code, 0);
  });

  it('hides device nodes (PrivateDevices=yes) and every path but its state directories from writes (ProtectSystem=strict)', async () => {
    const settings = JSON.parse(readInside(`${ETC}/settings.json`)) as Record<string, unknown>;
    settings.displays = [{ name: 'probe', width: 8, height: 8, palette: 'bw', command: ['/bin/sh', '-c', PROBE, 'probe', '{id}'] }];
    await sh(`cat > ${ETC}/settings.json <<'EOF'\n${JSON.stringify(settings, null, 2)}\nEOF\nsystemctl restart ${NAME}`);
    const seen = await probe();
    assert.equal(seen.get(`write ${STATE}`), 'ok');
    for (const dir of [`/opt/${NAME}`, ETC, '/usr/local/bin', '/var/lib']) assert.equal(seen.get(`write ${dir}`), 'refused', dir);
    // /tmp is the service's own (PrivateTmp=yes): its file is not in the system's /tmp.
    assert.equal(seen.get('write /tmp'), 'ok');
    assert.ok(!existsSync(container.path('/tmp/.probe')));
    for (const device of DEVICES) assert.equal(seen.get(`dev ${device.node}`), 'absent', device.node);
  });

  it('upgrades with install.sh again: keeps settings and images, and with a display command the drop-in shows the panel\'s devices and nothing else', async () => {
    const settingsBefore = readInside(`${ETC}/settings.json`);
    const pidBefore = await property('MainPID');
    const upgrade = await runInstaller();
    assert.equal(upgrade.code, 0, `${upgrade.stdout}\n${upgrade.stderr}`);
    assert.match(upgrade.stdout, /A display has a command: wrote pi-image-receiver\.service\.d\/50-display-devices\.conf/);
    assert.equal(readInside(`${ETC}/settings.json`), settingsBefore);
    assert.notEqual(await property('MainPID'), pidBefore, 'restarted');
    for (const id of acknowledged) assert.ok(existsSync(container.path(`${STATE}/images/${id}.png`)), id);
    assert.equal(await property('DevicePolicy'), 'closed');
    const seen = await probe();
    assert.match(seen.get('dev spidev0.0') ?? '', /^(opened|.*No such device.*)$|Operation not permitted/, 'visible');
    assert.notEqual(seen.get('dev spidev0.0'), 'absent');
    // Past the device cgroup (DeviceAllow=/dev/gpiomem): only the missing driver answers.
    assert.match(seen.get('dev gpiomem') ?? '', /No such device/);
    for (const node of ['mem', 'loop0']) assert.match(seen.get(`dev ${node}`) ?? '', /Operation not permitted/, node);
    assert.equal(seen.get(`write /opt/${NAME}`), 'refused', 'the rest of the hardening stays');
  });

  it('a stop lets a display command at work finish within the grace period, as the daemon means to', async () => {
    // KillMode=mixed: systemd's SIGTERM goes to the daemon alone, which gives the command what is
    // left of SHUTDOWN_GRACE_MS; with the default, the whole cgroup, the command was killed at once.
    const settings = JSON.parse(readInside(`${ETC}/settings.json`)) as { displays: unknown[] };
    settings.displays.push({ name: 'slow', width: 8, height: 8, palette: 'bw', command: ['/bin/sh', '-c', SLOW_COMMAND, 'slow', '{id}'] });
    await sh(`cat > ${ETC}/settings.json <<'EOF'\n${JSON.stringify(settings, null, 2)}\nEOF\nsystemctl restart ${NAME}`);
    const id = await upload(90);
    const file = container.path(`${STATE}/slow-${id}.txt`);
    assert.ok(await waitFor(() => existsSync(file), 30_000), 'the display command started');
    assert.equal((await systemctl('stop', NAME)).code, 0);
    assert.equal(readFileSync(file, 'utf8'), 'started\ndone\n');
    assert.equal(await property('Result'), 'success');
    assert.equal((await systemctl('start', NAME)).code, 0);
  });

  it('logs to the journal with each line\'s priority', async () => {
    const entries = (await container.exec(['journalctl', '-u', NAME, '-o', 'json', '--no-pager'])).stdout.trim().split('\n')
      .map((line) => JSON.parse(line) as { MESSAGE: string; PRIORITY: string; _PID?: string; _COMM?: string })
      // The daemon's own lines: its process is `node`, or `MainThread` from Node 24 on, which names
      // its main thread so (the kernel's comm is the thread's name).
      .filter((entry) => entry._COMM === 'node' || entry._COMM === 'MainThread');
    assert.ok(entries.some((entry) => entry.MESSAGE.startsWith(`listening on http://127.0.0.1:${port}`) && entry.PRIORITY === '6'));
    assert.ok(entries.some((entry) => /^display probe: \S+ exit=3 /.test(entry.MESSAGE) && entry.PRIORITY === '4'));
    assert.deepEqual(entries.filter((entry) => entry.MESSAGE.startsWith('<')), [], 'no priority prefix left in a message');
    // Nothing went wrong for the daemon in all these starts and stops (before KillMode=mixed, a
    // stop now and then killed the systemd-notify child sending STOPPING=1, logged as an error).
    assert.deepEqual(entries.filter((entry) => Number(entry.PRIORITY) <= 3).map((entry) => entry.MESSAGE), []);
  });

  it('is held to MemoryMax, and takes its memory budget from it', async () => {
    const mainPid = await property('MainPID');
    const cgroup = (await container.exec(['cat', `/proc/${mainPid}/cgroup`])).stdout;
    const memory = /^\d+:memory:(.*)$/m.exec(cgroup)?.[1];
    assert.equal(memory, `/system.slice/${NAME}.service`);
    assert.equal(readInside(`/sys/fs/cgroup/memory${memory}/memory.limit_in_bytes`).trim(), String(MEMORY_MAX_MB * 1024 * 1024));
    const status = (await (await fetch(`${base}/memory_status`)).json()) as { processing: { memory_budget: { budget_mb: number; origin: string } } };
    // cgroup v1 has no MemoryHigh=, so the budget is the hard limit here (on a Pi: memory.high, 256 MB).
    assert.equal(status.processing.memory_budget.budget_mb, MEMORY_MAX_MB);
    assert.equal(status.processing.memory_budget.origin, 'cgroup memory.max');
  });

  it('past MemoryMax the kernel kills the largest process of the service, and the service goes on (OOMPolicy=continue)', async () => {
    const settings = JSON.parse(readInside(`${ETC}/settings.json`)) as { displays: unknown[] };
    settings.displays = [{ name: 'hog', width: 8, height: 8, palette: 'bw', command: ['/usr/local/bin/node', '-e', HOG] }];
    await sh(`cat > ${ETC}/settings.json <<'EOF'\n${JSON.stringify(settings, null, 2)}\nEOF\nsystemctl restart ${NAME}`);
    const mainPid = await property('MainPID');
    const oomControl = container.path(`/sys/fs/cgroup/memory/system.slice/${NAME}.service/memory.oom_control`);
    const oomKills = (): number => Number(/^oom_kill (\d+)$/m.exec(readFileSync(oomControl, 'utf8'))?.[1]);
    assert.equal(oomKills(), 0);
    await upload(92);
    const record = container.path(`${STATE}/displays/hog.json`);
    const lastRun = (): { signal: string | null } | undefined => existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as { last_run?: { signal: string | null } }).last_run : undefined;
    assert.ok(await waitFor(() => lastRun() !== undefined, 60_000, 200), 'the hog ran');
    assert.equal(lastRun()?.signal, 'SIGKILL');
    assert.ok(oomKills() >= 1, 'killed by the OOM killer');
    assert.equal(await property('ActiveState'), 'active');
    assert.equal(await property('MainPID'), mainPid, 'the daemon itself was not killed');
    assert.equal((await fetch(`${base}/health`)).status, 200);
  });

  it('uninstall.sh removes the program and keeps the images, settings and user; --purge removes them too', async () => {
    const removed = await container.exec(['bash', `${CHECKOUT}/scripts/uninstall.sh`]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await property('ActiveState'), 'inactive');
    assert.equal(await property('LoadState'), 'not-found');
    for (const path of [`/opt/${NAME}`, `/etc/systemd/system/${NAME}.service`, DROPINS]) assert.ok(!existsSync(container.path(path)), path);
    for (const id of acknowledged) assert.ok(existsSync(container.path(`${STATE}/images/${id}.png`)), id);
    assert.ok(existsSync(container.path(`${ETC}/settings.json`)));
    assert.match(readInside('/etc/passwd'), new RegExp(`^${NAME}:`, 'm'));

    const purged = await container.exec(['bash', `${CHECKOUT}/scripts/uninstall.sh`, '--purge']);
    assert.equal(purged.code, 0, purged.stderr);
    for (const path of [STATE, ETC, `/usr/lib/sysusers.d/${NAME}.conf`]) assert.ok(!existsSync(container.path(path)), path);
    assert.doesNotMatch(readInside('/etc/passwd'), new RegExp(`^${NAME}:`, 'm'));
    assert.doesNotMatch(readInside('/etc/group'), new RegExp(`^${NAME}:`, 'm'));
  });
});
