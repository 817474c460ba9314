import { join } from 'node:path';
import { WorkerProcess, type WorkerProcessStatus } from '../workers/worker-process';
import type { AnalyseJob, Analysis, ClipText, ClipTextJob } from './labels-worker-main';

/**
 * What the labels worker holds once both models are loaded, in MiB of private memory (RssAnon):
 * Node, libvips, TensorFlow.js, the WebAssembly heap and the weights. `npm run bench:labels`
 * measured up to 190 MiB on x86-64; rounded up. The memory admission counts it for the image
 * that starts the worker.
 */
export const LABELS_WORKER_MB = 200;

/** The labels worker as /memory_status shows it. */
export type LabelWorkerStatus = WorkerProcessStatus;

/**
 * The detector in a worker process started by the first image and ended after `idleMs` without
 * one: the WebAssembly heap never shrinks, and a process gives every page back when it exits.
 */
export class LabelWorker {
  private readonly worker: WorkerProcess<AnalyseJob | ClipTextJob>;

  constructor(options: { idleMs: () => number; exec?: readonly string[] }) {
    this.worker = new WorkerProcess<AnalyseJob | ClipTextJob>({ script: join(__dirname, 'labels-worker-main.js'), name: 'labels worker', idleMs: options.idleMs, exec: options.exec });
  }

  /**
   * What the models make of a PNG: with `detect`, the detector's raw rows ([x1, y1, x2, y2,
   * score, class] in the input square's pixels, best first; decodeDetections() makes labels of
   * them); with `embed`, the unit-length content embedding; with `clipDir`, the unit-length CLIP
   * embedding by that export.
   * @throws Error when the worker cannot load the models or dies under the image.
   */
  async analyse(file: string, modelsDir: string, wanted: { detect: boolean; embed: boolean; clipDir?: string }): Promise<Analysis> {
    return (await this.worker.run({ op: 'analyse', modelsDir, file, ...wanted })) as Analysis;
  }

  /** The detector's raw rows for a PNG (see {@link analyse}). */
  async detect(file: string, modelsDir: string): Promise<number[][]> {
    return (await this.analyse(file, modelsDir, { detect: true, embed: false })).rows!;
  }

  /**
   * The unit-length CLIP embedding of a text by the export in `clipDir`, with its token ids.
   * @throws Error when the worker cannot load the model or its tokenizer.
   */
  async embedText(text: string, modelsDir: string, clipDir: string): Promise<ClipText> {
    return (await this.worker.run({ op: 'clip-text', modelsDir, clipDir, text })) as ClipText;
  }

  /** True while the worker runs. */
  get running(): boolean {
    return this.worker.running;
  }

  /** The worker's process id while it runs. */
  get pid(): number | undefined {
    return this.worker.pid;
  }

  /** The worker's private memory (RssAnon) in MiB; 0 while none runs. */
  privateMb(): number {
    return this.worker.privateMb() ?? 0;
  }

  /** The worker as /memory_status shows it. */
  status(): LabelWorkerStatus {
    return this.worker.status();
  }

  /** Ends the worker now (daemon stop). */
  close(): Promise<void> {
    return this.worker.close();
  }
}
