import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Debian's broker and its password tool, installed by .ci/run when missing. */
export const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

/** True when Debian's mosquitto is installed, so a test can say why it skips. */
export const mosquittoInstalled = existsSync(MOSQUITTO) && existsSync(MOSQUITTO_PASSWD);

/** A real mosquitto on 127.0.0.1 that requires a user name and password. */
export interface Broker {
  /** mqtt://127.0.0.1:<port>, without credentials. */
  url: string;
  port: number;
  username: string;
  password: string;
  /** The running broker's PID; undefined while stopped. */
  readonly pid: number | undefined;
  /** Everything mosquitto printed so far, across restarts. */
  output(): string;
  /** Stops it by its PID (SIGTERM) and waits for the exit; a stopped broker stays stopped. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its temporary config. */
  destroy(): Promise<void>;
}

export interface BrokerOptions {
  username?: string;
  password?: string;
  /**
   * Keep sessions (subscriptions and queued QoS 1 messages) in a file in the temp dir across a
   * stop and start, so a test's listener misses nothing while the broker is down. @default false
   */
  persistence?: boolean;
  /** More lines for the config, after the listener's (a bridge to another broker, say). */
  extraConfig?: string[];
}

/**
 * Starts Debian's mosquitto on a free 127.0.0.1 port with a temporary config: no anonymous
 * clients, one user, no persistence unless asked. Resolves once the port accepts connections.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const { username = 'pir', password = 'test-secret-4f9a', persistence = false, extraConfig = [] } = options;
  const dir = await mkdtemp(join(tmpdir(), 'pir-mosquitto-'));
  const passwordFile = join(dir, 'passwd');
  await writeFile(passwordFile, '', { mode: 0o600 });
  const made = spawnSync(MOSQUITTO_PASSWD, ['-b', passwordFile, username, password], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
  const port = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  await writeFile(configFile, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${passwordFile}`,
    ...(persistence ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']),
    // Started as root, mosquitto would switch to the user "mosquitto", who cannot read our temp
    // dir; as anyone else this line has no effect.
    `user ${userInfo().username}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    // Big enough for the JPEGs the tests publish, bounded like a real config would be.
    'max_packet_size 10485760',
    ...extraConfig,
    '',
  ].join('\n'));

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const start = async (): Promise<void> => {
    if (child) return;
    const proc = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', (chunk) => { output += chunk; });
    proc.stderr!.on('data', (chunk) => { output += chunk; });
    exited = new Promise((resolve) => proc.once('exit', () => {
      if (child === proc) child = undefined;
      resolve();
    }));
    await waitUntilAccepting(port, proc, () => output);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    process.kill(proc.pid!, 'SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    username,
    password,
    get pid() { return child?.pid; },
    output: () => output,
    stop,
    start,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A port the kernel just handed out and released, for a server that binds it right after. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls the port until a TCP connect succeeds, for at most 10 s; fails early if mosquitto exits. */
async function waitUntilAccepting(port: number, proc: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`mosquitto exited:\n${output()}`);
    if (await accepts(port)) return;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`mosquitto did not accept on ${port} in 10 s:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
