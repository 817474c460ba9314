import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { until } from './display-script';

/** The compiled daemon's entry point. */
export const MAIN_JS = join(__dirname, '..', '..', 'server', 'main.js');

/** The compiled daemon running as a child process on 127.0.0.1 and a free port. */
export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the daemon with `env` on top of this process's environment, on port 0, and waits until
 * it says where it listens. `program` is how to start it (an installed copy's wrapper, say).
 */
export async function startDaemon(dataDir: string, env: NodeJS.ProcessEnv = {}, args: string[] = [], program: string[] = [process.execPath, MAIN_JS]): Promise<DaemonProcess> {
  const child = spawn(program[0], [...program.slice(1), ...args], {
    // Labels off unless the test turns them on (see test-app.ts).
    env: { ...process.env, JOURNAL_STREAM: '', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LABELS: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => { output += chunk; });
  child.stderr!.on('data', (chunk) => { output += chunk; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A daemon that never said it listens must not outlive the caller.
      child.kill('SIGKILL');
      reject(new Error(`daemon did not start in 15 s:\n${output}`));
    }, 15_000);
    const check = (): void => {
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    child,
    url,
    pid: child.pid!,
    output: () => output,
    exited,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the daemon to completion (for --help and start-up failures) and returns what it printed. */
export function runDaemon(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Whether process `pid` still exists (signal 0 only checks that it does). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The files under the daemon's temp folder in `dataDir`: a request's folder emptied for reuse holds none. */
export async function tempFilesLeft(dataDir: string): Promise<string[]> {
  const files: string[] = [];
  // One level of request folders; one may be removed while it is read.
  for (const entry of await readdir(join(dataDir, 'tmp'), { withFileTypes: true })) {
    const path = join(dataDir, 'tmp', entry.name);
    if (!entry.isDirectory()) files.push(path);
    else for (const name of await readdir(path).catch(() => [])) files.push(join(path, name));
  }
  return files;
}

/**
 * Resolves once no file is left under the daemon's temp folder in `dataDir`; fails after
 * `timeoutMs` naming what is left. A stored upload's files are removed while its answer is written
 * (upload-flow.ts), so they may trail the answer by a moment; a refused one's are gone before its
 * answer, or, when the client hung up, as its request unwinds.
 */
export async function tempFolderEmptied(dataDir: string, timeoutMs = 5000): Promise<void> {
  await until(async () => (await tempFilesLeft(dataDir)).length === 0, 'the temp folder to empty', timeoutMs / 20).catch(async () => {
    throw new Error(`the temp folder still holds ${(await tempFilesLeft(dataDir)).join(', ')} ${timeoutMs} ms on`);
  });
}
