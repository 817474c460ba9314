import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, realpathSync, rmdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where .ci/systemd-root.sh keeps the Debian root it builds (one folder per release and CPU). */
export const ROOT_CACHE = '/var/cache/pi-image-receiver-ci';
/** Written last into an unpacked root by .ci/systemd-root.sh. */
const ROOT_STAMP = '.pi-image-receiver-root';
/** The PATH systemd gives services, and so the one commands run inside are given. */
const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The cgroup v1 controllers the container gets its own hierarchy in, so that its systemd can set limits. */
const V1_CONTROLLERS = ['memory', 'pids', 'devices'];

/** A command's outcome. */
export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A host path shown inside the container. */
export interface Bind {
  host: string;
  inside: string;
  readOnly: boolean;
}

/** A symbolic link made in the container's root before it boots. */
export interface Link {
  path: string;
  target: string;
}

/** What is added to the root for one boot. */
export interface ContainerSetup {
  binds: readonly Bind[];
  links: readonly Link[];
}

/** A Debian root booted with systemd as PID 1 in a container. */
export interface BootedContainer {
  /** The container's PID 1 as this host sees it. */
  initPid: number;
  /** The container's root file system as this host sees it: the overlay, without the container's own mounts. */
  rootDir: string;
  /** Runs a command inside (all of the container's namespaces), with a clean environment plus `env`. */
  exec(args: readonly string[], options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<ExecResult>;
  /** The host path of a path inside the container (its mounts included, /dev for one). */
  path(inside: string): string;
  /** Shuts the container down (SIGTERM to nspawn: systemd stops every unit), then removes what was made for it. */
  stop(): Promise<void>;
}

function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** The Debian root to boot: PIR_SYSTEMD_ROOT, else the one .ci/systemd-root.sh unpacked; undefined when none is there. */
export function findSystemdRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PIR_SYSTEMD_ROOT) return existsSync(join(env.PIR_SYSTEMD_ROOT, ROOT_STAMP)) ? env.PIR_SYSTEMD_ROOT : undefined;
  if (!existsSync(ROOT_CACHE)) return undefined;
  return readdirSync(ROOT_CACHE)
    .filter((name) => name.startsWith('systemd-root-') && !name.endsWith('.tar.gz'))
    .map((name) => join(ROOT_CACHE, name))
    .find((dir) => existsSync(join(dir, ROOT_STAMP)));
}

/** Why a container cannot be booted here, in plain words; undefined when it can. */
export function nspawnUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'systemd-nspawn needs Linux';
  if (process.getuid?.() !== 0) return 'booting a container with systemd-nspawn needs root';
  if (!commandExists('systemd-nspawn')) return 'systemd-nspawn is not installed (apt-get install systemd-container; .ci/run does it)';
  if (!commandExists('nsenter')) return 'nsenter is not installed (util-linux)';
  if (!findSystemdRoot()) return `no Debian root to boot under ${ROOT_CACHE}: build it with \`sudo bash .ci/systemd-root.sh\` (.ci/run does it)`;
  return undefined;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: err.message });
    });
  });
}

/** This process's own cgroup in a v1 controller's hierarchy, e.g. `/` or `/some/slice`. */
function ownV1Cgroup(controller: string): string | undefined {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((entry) => entry.split(':')[1]?.split(',').includes(controller));
  return line?.split(':')[2];
}

/** Removes a cgroup and the empty ones the container's systemd left in it, deepest first; false while any holds a process. */
function removeCgroupTree(dir: string): boolean {
  if (!existsSync(dir)) return true;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !removeCgroupTree(join(dir, entry.name))) return false;
  }
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Waits for a condition, polling; false when `timeoutMs` passed first. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(everyMs);
  }
  return condition();
}

/**
 * Boots `root` with systemd-nspawn, over an overlay so that the root itself is never written,
 * and returns once the container's systemd is up. On a cgroup v1 host (this CI machine), nspawn
 * starts in its own memory, pids and devices cgroups, and these are made writable inside before
 * systemd re-executes itself, so that the units' MemoryMax=, TasksMax= and DevicePolicy= are
 * enforced by the kernel as on a Pi. The host has no systemd: `--register=no --keep-unit`.
 */
export async function bootContainer(root: string, setup: ContainerSetup): Promise<BootedContainer> {
  const work = await mkdtemp('/var/tmp/pir-nspawn-');
  const merged = join(work, 'merged');
  await Promise.all(['upper', 'work', 'merged'].map((dir) => mkdir(join(work, dir))));
  const cgroups: string[] = [];
  let nspawn: ChildProcess | undefined;
  let mounted = false;

  const cleanUp = async (): Promise<void> => {
    if (nspawn?.pid && nspawn.exitCode === null && nspawn.signalCode === null) {
      const exited = new Promise((resolve) => nspawn!.once('exit', resolve));
      process.kill(nspawn.pid, 'SIGTERM');
      const timer = setTimeout(() => { if (nspawn?.pid) process.kill(nspawn.pid, 'SIGKILL'); }, 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (mounted) {
      await waitFor(() => spawnSync('umount', [merged]).status === 0, 10_000, 200);
      mounted = false;
    }
    for (const dir of cgroups.splice(0)) {
      await waitFor(() => removeCgroupTree(dir), 10_000, 200);
    }
    await rm(work, { recursive: true, force: true });
  };

  try {
    const mount = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${root},upperdir=${join(work, 'upper')},workdir=${join(work, 'work')}`, merged], { encoding: 'utf8' });
    if (mount.status !== 0) throw new Error(`mounting the overlay failed: ${mount.stderr}`);
    mounted = true;
    for (const link of setup.links) {
      await mkdir(join(merged, dirname(link.path)), { recursive: true });
      await symlink(link.target, join(merged, link.path));
    }
    for (const controller of V1_CONTROLLERS) {
      const own = ownV1Cgroup(controller);
      if (own === undefined || !existsSync(join('/sys/fs/cgroup', controller))) continue;
      const dir = join('/sys/fs/cgroup', controller, own, `pir-nspawn-${process.pid}`);
      await mkdir(dir, { recursive: true });
      cgroups.push(dir);
    }
    const args = ['-b', '-D', merged, '--register=no', '--keep-unit', '--console=read-only', '--quiet',
      ...setup.binds.map((bind) => `--bind${bind.readOnly ? '-ro' : ''}=${bind.host}:${bind.inside}`)];
    const console = openSync(join(work, 'console.log'), 'w');
    // A shell joins the cgroups, then becomes systemd-nspawn (same PID, nothing left behind).
    nspawn = spawn('sh', ['-c', 'for dir in $PIR_CGROUPS; do echo $$ > "$dir/cgroup.procs"; done; exec "$@"', 'sh', 'systemd-nspawn', ...args], {
      env: { PATH: CONTAINER_PATH, PIR_CGROUPS: cgroups.join(' ') },
      stdio: ['ignore', console, console],
      detached: true,
    });
    closeSync(console);
    const nspawnPid = nspawn.pid!;
    let initPid = 0;
    const started = await waitFor(() => {
      if (nspawn!.exitCode !== null) return true;
      const children = readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8').trim();
      initPid = Number(children.split(' ')[0]) || 0;
      return initPid > 0 && readFileSync(`/proc/${initPid}/comm`, 'utf8').trim() === 'systemd';
    }, 30_000);
    if (!started || nspawn.exitCode !== null) throw new Error(`systemd-nspawn did not start systemd: ${readFileSync(join(work, 'console.log'), 'utf8').slice(-2000)}`);

    const exec = (argv: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ExecResult> =>
      run('nsenter', ['--target', String(initPid), '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup', '--', ...argv],
        { PATH: CONTAINER_PATH, HOME: '/root', LANG: 'C.UTF-8', ...options.env }, options.timeoutMs ?? 120_000);

    // systemctl fails until systemd listens on its socket; then --wait waits for the boot's end.
    let state: ExecResult = { code: null, stdout: '', stderr: '' };
    const up = async (): Promise<boolean> => {
      state = await exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 60_000 });
      return ['running', 'degraded'].includes(state.stdout.trim());
    };
    if (!(await waitFor(up, 60_000, 100)) || state.stdout.trim() !== 'running') {
      throw new Error(`the container's systemd is ${state.stdout.trim() || state.stderr}: ${(await exec(['systemctl', '--failed', '--no-pager'])).stdout}`);
    }
    if (cgroups.length > 0) {
      // nspawn mounts the v1 hierarchies read-only; systemd sets up its cgroups only where it can write.
      const writable = await exec(['sh', '-c', `for c in ${V1_CONTROLLERS.join(' ')}; do mount -o remount,bind,rw /sys/fs/cgroup/$c || exit 1; done; systemctl daemon-reexec`]);
      if (writable.code !== 0) throw new Error(`making the cgroups writable failed: ${writable.stderr}`);
      await waitFor(up, 60_000, 100);
    }
    return {
      initPid,
      rootDir: merged,
      exec,
      path: (inside) => `/proc/${initPid}/root${inside}`,
      stop: cleanUp,
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

/**
 * The host's node and npm, shown inside at /usr/local, where install.sh and the unit find them on
 * PATH: node is this very binary (process.execPath, so the Node 24 run boots Node 24), npm the
 * package of the npm on PATH. Debian's root has the C and C++ libraries node is linked with.
 */
export function hostNode(): ContainerSetup {
  const npmCli = realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  return {
    binds: [
      { host: process.execPath, inside: '/usr/local/bin/node', readOnly: true },
      { host: dirname(dirname(npmCli)), inside: '/usr/local/lib/node_modules/npm', readOnly: true },
    ],
    links: [{ path: '/usr/local/bin/npm', target: '../lib/node_modules/npm/bin/npm-cli.js' }],
  };
}
