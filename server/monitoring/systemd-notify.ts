import { spawn } from 'node:child_process';
import type { Logger } from '../log';

/*
 * Why a CLI: the sd_notify protocol is one unix *datagram* per message, and Node has no unix
 * datagram sockets; a native module would have to compile on the Pi. So every message is one
 * short-lived `systemd-notify` child. Its pitfalls, and how they are handled (systemd 252, as in
 * Debian and Raspberry Pi OS Bookworm):
 * - The sender is a child, not the main process: the unit needs NotifyAccess=all.
 * - systemd attributes a message to a unit by the sender's PID; if the sender has exited by then,
 *   the message is dropped ("Cannot find unit for notify message"). Since systemd 246 the CLI
 *   waits, after sending, until the manager has processed the message (sd_notify_barrier), so the
 *   child is alive while it is attributed. `--no-block` would skip that wait: never use it.
 * - `--pid=<our pid>` adds MAINPID=<our pid> (no change, we are the main process) and, when the
 *   daemon runs as root, sends with our PID as sender, so attribution cannot fail at all. As an
 *   unprivileged user, the CLI falls back to its own PID plus the barrier above.
 * The cost is one fork+exec per message: READY, STOPPING, and one watchdog ping per half
 * WatchdogSec (every 15 s with WatchdogSec=30s), never two at once.
 */

/** What main.ts hands the notifier; the module reads no global state. */
export interface SystemdNotifierOptions {
  /** The daemon's environment: NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID and PATH come from it. */
  env: NodeJS.ProcessEnv;
  /** This daemon's PID, sent as MAINPID and compared with WATCHDOG_PID. */
  pid: number;
  log: Logger;
  /**
   * The executable, looked up on the env's PATH.
   * @default 'systemd-notify'
   */
  command?: string;
}

/**
 * Tells systemd when the daemon is ready, that it is alive (watchdog) and that it is stopping,
 * through the `systemd-notify` CLI. Without NOTIFY_SOCKET (not under a Type=notify unit) every
 * call does nothing, so the daemon runs the same from a terminal.
 */
export class SystemdNotifier {
  /** True when systemd listens for notifications (NOTIFY_SOCKET is set). */
  readonly enabled: boolean;
  /** How often the watchdog is pinged: half of WATCHDOG_USEC; undefined when there is no watchdog. */
  readonly watchdogIntervalMs: number | undefined;
  private readonly command: string;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  // READY and STOPPING are sent one after another, in order, each after the previous child exited.
  private sequence: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(private readonly options: SystemdNotifierOptions) {
    this.enabled = Boolean(options.env.NOTIFY_SOCKET);
    this.command = options.command ?? 'systemd-notify';
    const usec = Number(options.env.WATCHDOG_USEC);
    // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited it is not.
    const forUs = !options.env.WATCHDOG_PID || Number(options.env.WATCHDOG_PID) === options.pid;
    this.watchdogIntervalMs = this.enabled && forUs && Number.isInteger(usec) && usec > 0
      ? Math.max(1, Math.floor(usec / 2000))
      : undefined;
  }

  /** Reports start-up complete (READY=1) with a status line, then starts the watchdog pings. */
  ready(status: string): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const sent = this.sendInOrder(['READY=1', `STATUS=${status}`]);
    if (this.watchdogIntervalMs !== undefined && !this.timer) {
      // A timer on the event loop: when the loop hangs, the pings stop and systemd restarts us.
      this.timer = setInterval(() => this.pingWatchdog(), this.watchdogIntervalMs);
      this.timer.unref();
    }
    return sent;
  }

  /** Reports that the daemon is shutting down (STOPPING=1) and stops the watchdog pings. */
  stopping(): Promise<void> {
    this.stopWatchdog();
    if (!this.enabled) return Promise.resolve();
    return this.sendInOrder(['STOPPING=1', 'STATUS=stopping']);
  }

  /** Stops the pings; resolves once the messages already sent have been delivered. */
  async close(): Promise<void> {
    this.stopWatchdog();
    await this.sequence;
    await Promise.all([...this.inFlight]);
  }

  private stopWatchdog(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private pingWatchdog(): void {
    // A ping still waiting for systemd is as good as a new one: never pile up children.
    if (this.inFlight.size > 0) return;
    void this.send(['WATCHDOG=1']);
  }

  private sendInOrder(variables: string[]): Promise<void> {
    this.sequence = this.sequence.then(() => this.send(variables));
    return this.sequence;
  }

  /** Runs the CLI once without waiting on it synchronously; resolves when it exits, never rejects. */
  private send(variables: string[]): Promise<void> {
    const sent = new Promise<void>((resolve) => {
      const child = spawn(this.command, [`--pid=${this.options.pid}`, ...variables], {
        env: this.options.env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { if (stderr.length < 1000) stderr += chunk; });
      let finished = false;
      // 'error' (spawn failed) may be followed by 'close': count the child once.
      const done = (problem: string | undefined): void => {
        if (finished) return;
        finished = true;
        this.inFlight.delete(sent);
        this.report(variables[0], problem);
        resolve();
      };
      child.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ENOENT'
        ? `${this.command} not found on PATH (it comes with the systemd package)`
        : err.message));
      child.once('close', (code, signal) => done(code === 0
        ? undefined
        : `${this.command} exited with ${code ?? signal}: ${stderr.trim().split('\n')[0]}`));
    });
    this.inFlight.add(sent);
    return sent;
  }

  /** Logs a failure once, and the recovery, rather than once per watchdog ping. */
  private report(message: string, problem: string | undefined): void {
    if (problem && !this.failing) this.options.log.error(`cannot send ${message} to systemd: ${problem}`);
    else if (!problem && this.failing) this.options.log.info(`systemd notifications work again (${message})`);
    this.failing = problem !== undefined;
  }
}
