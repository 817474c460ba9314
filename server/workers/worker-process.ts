import { fork, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { AppError, type ErrorCode, type FieldErrors } from '../errors';
import { ProcessMemory } from '../proc-fields';

/**
 * A child process that does one kind of heavy work for the daemon (processing images, OpenCV): it
 * is started by the first job and ended after a while without one, so that what the work holds is
 * held only while there is work. A child process, not a worker thread: a thread's memory goes back
 * to the daemon's malloc when it ends, a process gives every page back to the system when it exits.
 */
export interface WorkerProcessOptions {
  /** The compiled script the worker runs; it calls {@link serveJobs}. */
  script: string;
  /** Its name in errors and the log, such as "image worker". */
  name: string;
  /** How long it may sit idle before it is ended, in milliseconds; read each time it goes idle. */
  idleMs: () => number;
  /** Its environment; the daemon's when not given. */
  env?: NodeJS.ProcessEnv;
  /** The command that runs the script in place of this node (an emulator; options.ts, --worker-exec). */
  exec?: readonly string[];
}

/** An error as it crosses from the worker: an AppError keeps its code, a system error its errno code. */
export interface WorkerError {
  message: string;
  app?: { code: ErrorCode; fields?: FieldErrors; headers?: Record<string, string>; cause?: string };
  errno?: string;
}

/**
 * A job as the worker receives it, and its answer: each echoes the job's id. `attachedBytes` says
 * how many bytes of the attachment pipe are the job's.
 */
export type WorkerJob<J> = J & { id: number; attachedBytes?: number };
export interface WorkerAnswer { id: number; result?: unknown; error?: WorkerError }

/** A worker process as /memory_status shows it. */
export interface WorkerProcessStatus {
  running: boolean;
  pid: number | null;
  /** Its private memory (RssAnon) in MiB while it runs; null when it does not. */
  private_mb: number | null;
  /** Times it was started since the daemon started. */
  starts: number;
  idle_seconds: number;
}

/** How long a worker told to end may take before it is killed. */
const EXIT_GRACE_MS = 2000;

/**
 * The worker's file descriptor of the attachment pipe, beside the IPC channel (3): a job's bytes
 * (a small image) go on it as they are, not copied into a serialized message and out again.
 */
const ATTACHMENT_FD = 4;

type Waiter = { resolve: (value: unknown) => void; reject: (err: Error) => void };

export class WorkerProcess<J extends object> {
  private worker?: ChildProcess;
  /** The current worker's attachment pipe. */
  private attachments?: Socket;
  /** Reads the current worker's private memory, while it runs. */
  private memory?: ProcessMemory;
  private idleTimer?: NodeJS.Timeout;
  private nextId = 1;
  /** The answers the current worker owes; each worker has its own, so a dying one fails only its jobs. */
  private pending = new Map<number, Waiter>();
  /** Times the worker was started, for /memory_status and tests. */
  starts = 0;

  constructor(private readonly options: WorkerProcessOptions) {}

  /** True while the worker process is alive. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The worker's process id while it runs. */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /**
   * The worker's private memory (RssAnon) in MiB: what it holds of its own, its file pages (node,
   * libvips) being the daemon's too. Undefined while none runs.
   */
  privateMb(): number | undefined {
    const bytes = this.worker && this.memory?.privateBytes();
    return bytes === undefined ? undefined : bytes / (1024 * 1024);
  }

  /** The worker as /memory_status shows it. */
  status(): WorkerProcessStatus {
    const privateMb = this.running ? this.privateMb() : undefined;
    return {
      running: this.running, pid: this.pid ?? null, private_mb: privateMb === undefined ? null : Math.round(privateMb * 10) / 10,
      starts: this.starts, idle_seconds: Math.round(this.options.idleMs() / 1000),
    };
  }

  /**
   * Has the worker do `job`, starting it first when it is not running. Jobs sent together run
   * together in the worker: the caller bounds how many. `attachment` reaches the worker's handler
   * beside the job.
   * @throws the worker's error, rebuilt ({@link rebuildError}); Error when the worker dies first.
   */
  async run(job: J, attachment?: Buffer): Promise<unknown> {
    clearTimeout(this.idleTimer);
    const worker = this.worker ?? this.start();
    const pending = this.pending;
    const id = this.nextId++;
    try {
      return await new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // The bytes first, then the job that claims them: both channels keep their order.
        if (attachment) this.attachments!.write(attachment);
        worker.send({ ...job, id, ...(attachment ? { attachedBytes: attachment.length } : {}) }, (err) => {
          // The channel closed under the job (the worker is exiting): its exit fails the others.
          if (err && pending.delete(id)) reject(err);
        });
      });
    } finally {
      this.armIdleTimer();
    }
  }

  /**
   * Ends the worker now (daemon stop, or idle): it exits when its channel closes, and is killed
   * if it has not within {@link EXIT_GRACE_MS}.
   */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    if (!worker || worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    if (worker.connected) worker.disconnect();
    const timer = setTimeout(() => worker.kill('SIGKILL'), EXIT_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  private start(): ChildProcess {
    // Advanced serialization passes typed arrays (pixels, descriptors) as they are, not as JSON.
    const [execPath, ...execArgv] = this.options.exec ?? [process.execPath];
    const worker = fork(this.options.script, [], {
      serialization: 'advanced', execPath, execArgv, env: this.options.env, stdio: ['ignore', 'ignore', 'inherit', 'ipc', 'pipe'],
    });
    const attachments = worker.stdio[ATTACHMENT_FD] as Socket;
    // A write into a worker that died fails with EPIPE; its exit fails the jobs.
    attachments.on('error', () => undefined);
    this.attachments = attachments;
    const pending = new Map<number, Waiter>();
    this.pending = pending;
    this.starts++;
    const memory = worker.pid === undefined ? undefined : new ProcessMemory(worker.pid);
    this.memory = memory;
    worker.on('message', (answer: WorkerAnswer) => {
      const waiter = pending.get(answer.id);
      pending.delete(answer.id);
      if (answer.error !== undefined) waiter?.reject(rebuildError(answer.error, this.options.name));
      else waiter?.resolve(answer.result);
    });
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      memory?.close();
      for (const waiter of pending.values()) waiter.reject(err);
      pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code, signal) => fail(new Error(`${this.options.name} exited with ${signal ?? `code ${code}`}`)));
    this.worker = worker;
    return worker;
  }

  /** Arms the idle timer once the current worker owes nothing (a job of a worker that died may end while a new one works). */
  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (!this.worker || this.pending.size > 0) return;
    this.idleTimer = setTimeout(() => void this.close(), this.options.idleMs());
    // An idle worker's timer never keeps the daemon alive.
    this.idleTimer.unref();
  }
}

/**
 * The worker's side: answers each job the daemon sends with `handle`'s result or error, and exits
 * when its channel closes: the daemon ended it, or is gone (crashed, killed). It ignores SIGTERM
 * and SIGINT, which systemd's stop and Ctrl-C send to every process of the daemon at once: the
 * daemon lets the jobs in flight finish, then ends it.
 */
export function serveJobs<J extends object>(handle: (job: WorkerJob<J>, attachment?: Buffer) => Promise<unknown>): void {
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
  // A job may finish after the daemon ended this worker or went away: its answer then has no one
  // to go to. The callback takes the send's EPIPE, which would otherwise crash this process with
  // an unhandled 'error' just before 'disconnect' ends it.
  const answer = (message: WorkerAnswer): void => {
    if (process.connected) process.send!(message, undefined, undefined, () => undefined);
  };
  let attachments: AttachmentReader | undefined;
  process.on('message', (job: WorkerJob<J>) => {
    // Claimed now, in the order the jobs came, which is the order their bytes came in.
    const attachment = job.attachedBytes === undefined ? undefined
      : (attachments ??= new AttachmentReader(new Socket({ fd: ATTACHMENT_FD, readable: true, writable: false }))).take(job.attachedBytes);
    (attachment ? attachment.then((bytes) => handle(job, bytes)) : handle(job)).then(
      (result) => answer({ id: job.id, result }),
      (err: unknown) => answer({ id: job.id, error: describeError(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

/** The worker's end of the attachment pipe: hands each job the next bytes it claims. */
class AttachmentReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly claims: Array<{ bytes: number; resolve: (bytes: Buffer) => void }> = [];

  constructor(stream: Readable) {
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.serve();
    });
  }

  /** The next `bytes` bytes of the pipe after those claimed before. */
  take(bytes: number): Promise<Buffer> {
    return new Promise((resolve) => {
      this.claims.push({ bytes, resolve });
      this.serve();
    });
  }

  private serve(): void {
    while (this.claims.length > 0 && this.buffered >= this.claims[0].bytes) {
      const { bytes, resolve } = this.claims.shift()!;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = all.length > bytes ? [all.subarray(bytes)] : [];
      this.buffered -= bytes;
      resolve(all.subarray(0, bytes));
    }
  }
}

/** An error as the worker sends it. */
export function describeError(err: unknown): WorkerError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof AppError) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return { message, app: { code: err.code, fields: err.fields, headers: err.headers, cause } };
  }
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  return { message, ...(typeof errno === 'string' ? { errno } : {}) };
}

/**
 * The worker's error as the daemon throws it: the same AppError (code, message, fields, headers;
 * its cause as text, for the log), or an Error named after the worker that keeps the errno code,
 * so that a full disk is still told from a bad image.
 */
export function rebuildError(error: WorkerError, name: string): Error {
  if (error.app) {
    const { code, fields, headers, cause } = error.app;
    return new AppError(code, error.message, { fields, headers, cause: cause === undefined ? undefined : new Error(cause) });
  }
  return Object.assign(new Error(`${name}: ${error.message}`), error.errno ? { code: error.errno } : {});
}
