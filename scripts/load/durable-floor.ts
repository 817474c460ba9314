import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CeilingResult } from './ceiling';
import type { WorkloadImage } from './photo-jpeg';
import { postImages } from './post-load';
import { readCpuSeconds, readMinorFaults } from './rss-sampler';

/**
 * A reference the daemon is measured against beside bare sharp: bare sharp behind the least an
 * HTTP receiver can do that answers only once the image is durable (durable-floor-process.ts).
 * What it loses to bare sharp, HTTP, the client sharing the cores and the fsyncs cost any such
 * receiver; what the daemon loses to it is the daemon's own (its worker process, the body streamed
 * to disk, its middleware, record, log and metrics).
 */
export class DurableFloor {
  private constructor(private readonly child: ChildProcess, readonly url: string) {}

  /** Starts it storing into `dir` with the mode's processing profile, under the environment `env`. */
  static async start(dir: string, mode: string, env: NodeJS.ProcessEnv): Promise<DurableFloor> {
    const child = fork(join(__dirname, 'durable-floor-process.js'), [dir, mode], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the durable floor exited (${code}) before listening`)));
      child.once('message', (message: { port: number }) => resolve(message.port));
    });
    return new DurableFloor(child, `http://127.0.0.1:${port}`);
  }

  /**
   * Posts `jobs` to it from `clients` clients, as the daemon is posted to, and times them.
   * @throws Error when an upload is not answered 201.
   */
  async run(jobs: readonly WorkloadImage[], clients: number): Promise<CeilingResult> {
    const pid = this.child.pid!;
    const cpu = readCpuSeconds(pid);
    const faults = readMinorFaults(pid);
    const load = await postImages(this.url, jobs, { concurrency: clients, timeLimitMs: 300_000 });
    if (load.failures.length > 0) throw new Error(`the durable floor failed uploads: ${load.failures.join('; ')}`);
    return { seconds: load.seconds, cpuSeconds: readCpuSeconds(pid) - cpu, minorFaults: readMinorFaults(pid) - faults };
  }

  stop(): void {
    this.child.kill();
  }
}
