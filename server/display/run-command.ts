import { spawn } from 'node:child_process';

/** Lines of a command's output kept per run (stdout and stderr, interleaved as they came). */
export const OUTPUT_LINES = 20;
/** A longer line is cut, so a command printing without newlines cannot grow memory. */
const MAX_LINE = 500;
/** Time a command gets between SIGTERM and SIGKILL once past its limit or at shutdown. */
export const KILL_GRACE_MS = 3000;

/** The placeholders a display command's arguments may carry. */
export interface CommandValues {
  frame: string;
  image: string;
  id: string;
  source: string;
  display: string;
}

/** What one run of a display command did; kept as the display's `last_run`. */
export interface CommandRun {
  image_id: string;
  started_at: string;
  duration_ms: number;
  /** The exit status, or null when a signal ended it or it never started. */
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  ok: boolean;
  /** Why it could not start (ENOENT, EACCES), when it could not. */
  error?: string;
  /** The last {@link OUTPUT_LINES} lines of output. */
  output: string[];
}

/**
 * Replaces `{frame}`, `{image}`, `{id}`, `{source}` and `{display}` in each argument. The values
 * never pass through a shell, so a source name cannot inject anything; an argument stays one
 * argument whatever it contains.
 */
export function expandArgv(argv: readonly string[], values: CommandValues): string[] {
  return argv.map((arg) => arg.replace(/\{(frame|image|id|source|display)\}/g, (_, key: keyof CommandValues) => values[key]));
}

export interface RunOptions {
  timeoutMs: number;
  imageId: string;
  /** Aborted at shutdown: the command's group is stopped as on a timeout. */
  signal?: AbortSignal;
}

/**
 * Runs argv without a shell, in its own process group, so that a timeout stops the command and
 * everything it started (a Python script and its helpers) with one kill(-pgid): SIGTERM, then
 * SIGKILL after {@link KILL_GRACE_MS}. Never throws: a command that cannot start is a failed run.
 */
export function runCommand(argv: readonly string[], options: RunOptions): Promise<CommandRun> {
  const startedAt = new Date();
  const started = performance.now();
  const tail = new OutputTail();
  return new Promise((resolve) => {
    let timedOut = false;
    let spawnError: string | undefined;
    const child = spawn(argv[0], argv.slice(1), { detached: true, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    const stopGroup = (): void => {
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup();
    }, options.timeoutMs);
    const onAbort = (): void => stopGroup();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError = `${err.code ?? 'error'}: ${err.message}`;
    });
    child.once('exit', () => {
      // Helpers the command left running in its group would hold the panel (and the output
      // pipes, delaying 'close'); they go with it.
      signalGroup(child.pid, 'SIGKILL');
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        image_id: options.imageId,
        started_at: startedAt.toISOString(),
        duration_ms: Math.round(performance.now() - started),
        exit_code: spawnError ? null : code,
        signal: signal ?? null,
        timed_out: timedOut,
        ok: !spawnError && !timedOut && code === 0,
        ...(spawnError ? { error: spawnError } : {}),
        output: tail.lines(),
      });
    });
  });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** The last lines of a stream of output, bounded in count and length. */
class OutputTail {
  private readonly done: string[] = [];
  private partial = '';

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop()!.slice(-MAX_LINE);
    for (const line of parts) {
      this.done.push(line.replace(/\r$/, '').slice(0, MAX_LINE));
      if (this.done.length > OUTPUT_LINES) this.done.shift();
    }
  }

  lines(): string[] {
    const all = this.partial ? [...this.done, this.partial] : [...this.done];
    return all.slice(-OUTPUT_LINES);
  }
}
