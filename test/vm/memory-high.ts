import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { photoLike } from '../helpers/fixtures';
import { freePort } from '../helpers/mosquitto';
import { bootContainer, findSystemdRoot, hostNode, nspawnUnavailable, type BootedContainer } from '../helpers/nspawn';
import { REPO_ROOT } from '../helpers/repo';

// npm run test:vm (not part of npm test): the same Debian root as test/systemd/boot.test.ts, with
// a Debian kernel and the daemon installed by install.sh, booted as a VM under QEMU without KVM
// (TCG), where systemd runs on cgroup v2 as on a Pi: MemoryHigh= exists there. Checks that the
// daemon's budget is memory.high, and that 4 clients posting 12 MP JPEGs never get it OOM-killed.

const NAME = 'pi-image-receiver';
const CLIENTS = 4;
const IMAGES_PER_CLIENT = 2;
const VM_MEMORY_MB = 1024;
/** Bounds: the boot under TCG took 42-68 s here; the load at most this long. */
const BOOT_TIMEOUT_MS = 300_000;
const LOAD_TIMEOUT_MS = 900_000;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function must(container: BootedContainer, script: string, timeoutMs = 600_000): Promise<string> {
  const result = await container.exec(['sh', '-c', script], { env: { DEBIAN_FRONTEND: 'noninteractive', npm_config_prefer_offline: 'true' }, timeoutMs });
  if (result.code !== 0) throw new Error(`${script}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Builds the VM's disk image: the root with a kernel, the daemon installed and enabled, DHCP, and root logged in on the serial console. */
async function buildImage(work: string, port: number): Promise<{ image: string; kernel: string; initrd: string }> {
  const node = hostNode();
  const npmCache = process.env.npm_config_cache ?? join(homedir(), '.npm');
  const container = await bootContainer(findSystemdRoot()!, {
    binds: [...node.binds, { host: REPO_ROOT, inside: `/usr/src/${NAME}`, readOnly: true }, { host: npmCache, inside: '/root/.npm', readOnly: false }],
    links: node.links,
  });
  try {
    let started = Date.now();
    // The initramfs gets the few modules this VM boots with: the default (most of them) took over 4 minutes to build here.
    await must(container, `mkdir -p /etc/initramfs-tools/conf.d && echo MODULES=list > /etc/initramfs-tools/conf.d/vm.conf
      printf 'virtio_pci\\nvirtio_blk\\nvirtio_net\\next4\\n' > /etc/initramfs-tools/modules
      apt-get update -qq && apt-get install -y -qq -o Dpkg::Options::=--force-confold --no-install-recommends linux-image-amd64 initramfs-tools >/dev/null`);
    say(`kernel installed into the root in ${Math.round((Date.now() - started) / 1000)} s`);
    started = Date.now();
    await must(container, `mkdir -p /etc/${NAME} && install -m 0600 /dev/null /etc/${NAME}/environment && printf 'PORT=${port}\\nHOST=127.0.0.1\\n' > /etc/${NAME}/environment`);
    await must(container, `bash /usr/src/${NAME}/scripts/install.sh --skip-build >/dev/null`);
    say(`install.sh ran in ${Math.round((Date.now() - started) / 1000)} s`);
    // In the VM, hostfwd reaches the guest's own address: listen there (the host side is 127.0.0.1 only).
    await must(container, `systemctl stop ${NAME} && sed -i 's/^HOST=.*/HOST=0.0.0.0/' /etc/${NAME}/environment
      printf '[Match]\\nName=en* eth*\\n[Network]\\nDHCP=yes\\n' > /etc/systemd/network/50-vm.network
      systemctl enable --quiet systemd-networkd
      mkdir -p /etc/systemd/system/serial-getty@ttyS0.service.d
      printf '[Service]\\nExecStart=\\nExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %%I $TERM\\n' > /etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf`);
    // The host's node, as a file of the root (in the container it was shown there by a bind mount).
    await copyFile(process.execPath, join(container.rootDir, 'usr/local/bin/node'));
    const boot = await readdir(join(container.rootDir, 'boot'));
    const kernel = join(work, 'vmlinuz');
    const initrd = join(work, 'initrd.img');
    await copyFile(join(container.rootDir, 'boot', boot.find((name) => name.startsWith('vmlinuz-'))!), kernel);
    await copyFile(join(container.rootDir, 'boot', boot.find((name) => name.startsWith('initrd.img-'))!), initrd);
    const image = join(work, 'root.img');
    const mkfs = spawnSync('mkfs.ext4', ['-q', '-F', '-d', container.rootDir, image, '3G'], { encoding: 'utf8' });
    if (mkfs.status !== 0) throw new Error(`mkfs.ext4 failed: ${mkfs.stderr}`);
    return { image, kernel, initrd };
  } finally {
    await container.stop();
  }
}

/** A VM on the serial console: commands typed as root, their output read back. */
class SerialVm {
  private output = '';
  private marks = 0;
  readonly exited: Promise<number | null>;
  private readonly qemu;

  constructor(files: { image: string; kernel: string; initrd: string }, port: number) {
    // -cpu max: every instruction TCG emulates; sharp's libvips dies of SIGILL on the default qemu64.
    this.qemu = spawn('qemu-system-x86_64', ['-accel', 'tcg', '-cpu', 'max', '-m', String(VM_MEMORY_MB), '-smp', '2', '-nographic', '-no-reboot',
      '-kernel', files.kernel, '-initrd', files.initrd, '-append', 'root=/dev/vda rw console=ttyS0 quiet loglevel=1 systemd.show_status=0 systemd.unified_cgroup_hierarchy=1',
      '-drive', `file=${files.image},if=virtio,format=raw`,
      '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:${port}`, '-device', 'virtio-net-pci,netdev=n0'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.qemu.stdout.setEncoding('utf8').on('data', (text: string) => { this.output += text; });
    this.exited = new Promise((resolve) => this.qemu.on('exit', (code) => resolve(code)));
  }

  /** Types `command` and returns what it printed; the end mark is split in the typed line so the echo never matches. */
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    const mark = `END${++this.marks}`;
    const from = this.output.length;
    this.qemu.stdin.write(`${command}; echo "${mark.slice(0, 2)}""${mark.slice(2)}"\n`);
    const deadline = Date.now() + timeoutMs;
    const pattern = new RegExp(`^${mark}\\r?$`, 'm');
    while (!pattern.test(this.output.slice(from))) {
      if (Date.now() > deadline) throw new Error(`no answer to ${command}: ${this.output.slice(-2000)}`);
      await sleep(200);
    }
    const text = this.output.slice(from);
    // What follows the echo of the typed line, less the shell's bracketed-paste and colour escapes.
    const start = text.indexOf('\n', text.indexOf(`"${mark.slice(0, 2)}""${mark.slice(2)}"`)) + 1;
    return text.slice(start, text.search(pattern)).replace(/\r|\x1b\[[0-9;?]*[a-zA-Z]/g, '');
  }

  async waitForShell(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        await this.run('true', 5_000);
        return;
      } catch {
        // Not logged in yet.
      }
    }
    throw new Error(`the VM gave no shell: ${this.output.slice(-3000)}`);
  }

  kill(): void {
    if (this.qemu.exitCode === null) this.qemu.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const unavailable = nspawnUnavailable() ?? (spawnSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v mkfs.ext4']).status !== 0 ? 'qemu-system-x86_64 or mkfs.ext4 is missing: apt-get install qemu-system-x86 e2fsprogs' : undefined);
  if (unavailable) throw new Error(unavailable);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const work = await mkdtemp('/var/tmp/pir-vm-');
  let vm: SerialVm | undefined;
  // Interrupted: the VM goes at once (the container is stopped by buildImage's finally).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { vm?.kill(); process.exitCode = 1; });
  try {
    const files = await buildImage(work, port);
    let started = Date.now();
    vm = new SerialVm(files, port);
    await vm.waitForShell(BOOT_TIMEOUT_MS);
    const state = (await vm.run('systemctl is-system-running --wait', BOOT_TIMEOUT_MS)).trim();
    say(`booted under QEMU (TCG) to a shell in ${Math.round((Date.now() - started) / 1000)} s; systemd: ${state}`);
    say(`cgroup: ${(await vm.run('stat -fc %T /sys/fs/cgroup')).trim()}; kernel ${(await vm.run('uname -r')).trim()}`);
    const active = (await vm.run(`systemctl is-active ${NAME}`, 120_000)).trim();
    if (active !== 'active') throw new Error(`${NAME} is ${active}: ${await vm.run(`journalctl -u ${NAME} --no-pager -n 30`)}`);
    const before = await vm.run(`systemctl show -p MainPID -p NRestarts -p MemoryHigh -p MemoryMax ${NAME}`);
    say(before.trim());
    const status = (await (await fetch(`${base}/memory_status`)).json()) as { processing: { memory_budget: { budget_mb: number; origin: string } } };
    say(`memory budget: ${JSON.stringify(status.processing.memory_budget)}`);
    const budgetFromHigh = status.processing.memory_budget.origin === 'cgroup memory.high' && status.processing.memory_budget.budget_mb === 256;

    started = Date.now();
    const statuses: number[] = [];
    const loadDeadline = Date.now() + LOAD_TIMEOUT_MS;
    await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = 0; i < IMAGES_PER_CLIENT && Date.now() < loadDeadline; i++) {
        const body = await photoLike(4000, 3000, 'jpeg', client * 10 + i + 1);
        const response = await fetch(`${base}/images`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body, signal: AbortSignal.timeout(LOAD_TIMEOUT_MS) });
        statuses.push(response.status);
        await response.arrayBuffer();
      }
    }));
    say(`${CLIENTS} clients posted ${statuses.length} 12 MP JPEGs in ${Math.round((Date.now() - started) / 1000)} s: statuses ${statuses.join(' ')}`);
    const cgroup = `/sys/fs/cgroup/system.slice/${NAME}.service`;
    const after = await vm.run(`systemctl show -p MainPID -p NRestarts ${NAME}; grep -E '^(oom|oom_kill|high|max) ' ${cgroup}/memory.events; echo memory.peak=$(cat ${cgroup}/memory.peak)`);
    say(after.trim());
    const oomKills = Number(/^oom_kill (\d+)$/m.exec(after)?.[1]);
    const sameProcess = /^MainPID=(\d+)$/m.exec(before)?.[1] === /^MainPID=(\d+)$/m.exec(after)?.[1] && /^NRestarts=0$/m.test(after);
    await vm.run('systemctl poweroff --no-block');
    await Promise.race([vm.exited, sleep(60_000)]);
    const checks = [
      ['the budget is read from memory.high (256 MB)', budgetFromHigh],
      ['every upload stored (201)', statuses.length === CLIENTS * IMAGES_PER_CLIENT && statuses.every((code) => code === 201)],
      ['no OOM kill in the service', oomKills === 0],
      ['the daemon never restarted', sameProcess],
    ] as const;
    for (const [what, ok] of checks) say(`${ok ? 'ok' : 'FAILED'}: ${what}`);
    const passed = checks.filter(([, ok]) => ok).length;
    say(`${passed} passed, ${checks.length - passed} failed`);
    process.exitCode = passed === checks.length ? 0 : 1;
  } finally {
    vm?.kill();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`test:vm: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
