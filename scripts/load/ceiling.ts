import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeOptions, pngOptions } from '../../server/pipeline/process-image';
import { processingConcurrency, tuneSharp } from '../../server/pipeline/sharp-tuning';
import { DEFAULT_SETTINGS, type Settings } from '../../server/settings';
import type { WorkloadImage } from './photo-jpeg';
import { readMinorFaults } from './rss-sampler';

/**
 * The work the daemon does around its HTTP layer, done by bare sharp: decode, resize to
 * max_image_dimension and orient from EXIF, with the daemon's decode options, from a file or the
 * bytes of one; the caller adds the PNG's.
 */
export function bareSharp(input: string | Buffer, settings: Settings): sharp.Sharp {
  const max = settings.max_image_dimension;
  return sharp(input, decodeOptions(settings))
    .resize(max, max, { fit: 'inside', withoutEnlargement: true })
    .autoOrient();
}

/** What bare sharp took for a list of jobs. */
export interface CeilingResult {
  seconds: number;
  cpuSeconds: number;
  /** Minor page faults of the process that ran them, while it did. */
  minorFaults: number;
}

/**
 * Processes `jobs` with bare sharp in this process, `clients` at a time but never more than the
 * mode lets the daemon process at once, with the mode's libvips threads and cache: the ceiling
 * that the daemon, which does the same work behind HTTP, can approach.
 */
export async function runCeiling(jobs: ReadonlyArray<Pick<WorkloadImage, 'file'>>, clients: number, settings: Settings, dir: string): Promise<CeilingResult> {
  tuneSharp(settings);
  const atOnce = Math.min(clients, processingConcurrency(settings));
  const started = performance.now();
  const cpu = process.cpuUsage();
  const faults = readMinorFaults(process.pid);
  let next = 0;
  const worker = async (slot: number): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      await bareSharp(job.file, settings).png(pngOptions(settings)).toFile(join(dir, `ceiling-${slot}.png`));
    }
  };
  await Promise.all(Array.from({ length: atOnce }, (_, slot) => worker(slot)));
  const { user, system } = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (user + system) / 1e6, minorFaults: readMinorFaults(process.pid) - faults };
}

/** One {@link runCeiling} call, as sent to a {@link CeilingProcess}. */
export interface CeilingRequest {
  jobs: Array<Pick<WorkloadImage, 'file'>>;
  clients: number;
  settings: Settings;
  dir: string;
}

/**
 * Bare sharp in a child process of its own, started with the allocator environment `env` (the
 * daemon's), so that the daemon can be compared with bare sharp under the same allocator as well
 * as with bare sharp under glibc as it comes: the allocator's cost and the daemon's own are then
 * told apart. One job list at a time.
 */
export class CeilingProcess {
  private constructor(private readonly child: ChildProcess) {}

  static start(env: NodeJS.ProcessEnv): CeilingProcess {
    return new CeilingProcess(fork(join(__dirname, 'ceiling-process.js'), [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  run(jobs: readonly WorkloadImage[], clients: number, settings: Settings, dir: string): Promise<CeilingResult> {
    const request: CeilingRequest = { jobs: jobs.map(({ file }) => ({ file })), clients, settings, dir };
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`the bare sharp process exited (${code}) before answering`));
      this.child.once('exit', onExit);
      this.child.once('message', (result: CeilingResult) => {
        this.child.off('exit', onExit);
        resolve(result);
      });
      this.child.send(request);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

/** The size of `image` stored as the daemon stores it by default, with or without row filtering. */
export async function barePngBytes(image: WorkloadImage, adaptiveFiltering: boolean): Promise<number> {
  const png = await bareSharp(image.file, DEFAULT_SETTINGS)
    .png({ ...pngOptions(DEFAULT_SETTINGS), adaptiveFiltering })
    .toBuffer();
  return png.length;
}
