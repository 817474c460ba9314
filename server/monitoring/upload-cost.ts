import { Counter, type Registry } from 'prom-client';
import { fsyncCount } from '../atomic-write';

/** The phases of an upload, in the order a request goes through them. */
export const UPLOAD_PHASES = ['body', 'header', 'queue', 'worker', 'commit', 'response'] as const;
export type UploadPhase = (typeof UPLOAD_PHASES)[number];

/** What one phase has cost so far, over every timed upload. */
export interface PhaseTotals {
  /** The daemon's CPU time (user and system, every thread of its process), in seconds. */
  cpuSeconds: number;
  /** Wall-clock time, in seconds. */
  seconds: number;
}

/**
 * One upload's clock: each {@link lap} charges the time and the daemon's CPU since the previous
 * lap to the phase named; {@link answered} adds the upload's phases to the totals, so that a
 * refused upload is not counted. Laps of concurrent uploads overlap, so the CPU figures are exact
 * only one upload at a time (the benchmark's one-client run); the wall-clock ones always are.
 */
export interface UploadClock {
  lap(phase: UploadPhase): void;
  /** Adds this upload's phases to the totals, with the `images` it stored, once it is answered. */
  answered(images: number): void;
}

/** A clock that records nothing: for ways in that are not timed. */
export const UNTIMED: UploadClock = { lap: () => undefined, answered: () => undefined };

/**
 * The daemon's own cost per upload, phase by phase, outside the image worker's processing: how long
 * each phase took and what CPU the daemon spent in it, summed over every timed upload. Read with
 * process.cpuUsage() and performance.now() once at each boundary (7 per upload). Shown on
 * /metrics, where `npm run bench` reads it.
 */
export class UploadCost {
  private readonly totals = new Map<UploadPhase, PhaseTotals>(UPLOAD_PHASES.map((phase) => [phase, { cpuSeconds: 0, seconds: 0 }]));
  private images = 0;

  /** Starts timing one upload, from now. */
  start(): UploadClock {
    // One reading per lap, the end of one phase and the start of the next: each is a getrusage()
    // over every thread of the process, some 20 µs on the build VM.
    let cpu = cpuSeconds();
    let at = performance.now();
    const laps: Array<[UploadPhase, PhaseTotals]> = [];
    return {
      lap: (phase) => {
        const nowCpu = cpuSeconds();
        const now = performance.now();
        laps.push([phase, { cpuSeconds: nowCpu - cpu, seconds: (now - at) / 1000 }]);
        cpu = nowCpu;
        at = now;
      },
      answered: (images) => {
        for (const [phase, spent] of laps) {
          const total = this.totals.get(phase)!;
          total.cpuSeconds += spent.cpuSeconds;
          total.seconds += spent.seconds;
        }
        this.images += images;
      },
    };
  }

  /** The totals of one phase. */
  phase(phase: UploadPhase): PhaseTotals {
    return { ...this.totals.get(phase)! };
  }

  /** Images stored by timed uploads. */
  get storedImages(): number {
    return this.images;
  }

  /** Adds the phase totals, the images they cover and the fsyncs made so far to `registry`. */
  registerMetrics(registry: Registry, prefix: string): void {
    const counted = (name: string, help: string, value: () => number): void => {
      new Counter({ name: `${prefix}${name}`, help, registers: [registry], collect() { this.reset(); this.inc(value()); } });
    };
    const cost = this;
    new Counter({
      name: `${prefix}upload_phase_cpu_seconds_total`, help: 'The daemon\'s CPU time in each phase of the HTTP uploads answered with success (exact one upload at a time)',
      labelNames: ['phase'], registers: [registry],
      collect() { this.reset(); for (const phase of UPLOAD_PHASES) this.inc({ phase }, cost.phase(phase).cpuSeconds); },
    });
    new Counter({
      name: `${prefix}upload_phase_seconds_total`, help: 'Wall-clock time in each phase of the uploads answered', labelNames: ['phase'], registers: [registry],
      collect() { this.reset(); for (const phase of UPLOAD_PHASES) this.inc({ phase }, cost.phase(phase).seconds); },
    });
    counted('upload_phase_images_total', 'Images stored by the uploads the phase totals cover', () => cost.storedImages);
    counted('fsyncs_total', 'Flushes to the device made by the daemon: fsync calls (files and directories) and O_DSYNC writes', fsyncCount);
  }
}

/** The CPU this process has used, user and system, in seconds. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
