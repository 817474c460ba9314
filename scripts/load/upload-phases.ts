import { UPLOAD_PHASES, type UploadPhase } from '../../server/monitoring/upload-cost';
import { METRIC_PREFIX } from '../../server/monitoring/metrics';

/** The daemon's upload-cost counters (monitoring/upload-cost.ts) as /metrics shows them. */
export interface PhaseReading {
  /** CPU seconds by phase. */
  cpu: Record<UploadPhase, number>;
  /** Wall-clock seconds by phase. */
  wall: Record<UploadPhase, number>;
  images: number;
  fsyncs: number;
}

/** Reads the upload-cost counters from a running daemon's /metrics. */
export async function readPhases(url: string): Promise<PhaseReading> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${METRIC_PREFIX}${series} `));
    if (!line) throw new Error(`no ${series} on /metrics`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const byPhase = (name: string): Record<UploadPhase, number> =>
    Object.fromEntries(UPLOAD_PHASES.map((phase) => [phase, value(`${name}{phase="${phase}"}`)])) as Record<UploadPhase, number>;
  return { cpu: byPhase('upload_phase_cpu_seconds_total'), wall: byPhase('upload_phase_seconds_total'), images: value('upload_phase_images_total'), fsyncs: value('fsyncs_total') };
}

/** What was spent between two readings. */
export function phasesBetween(before: PhaseReading, after: PhaseReading): PhaseReading {
  const minus = (a: Record<UploadPhase, number>, b: Record<UploadPhase, number>): Record<UploadPhase, number> =>
    Object.fromEntries(UPLOAD_PHASES.map((phase) => [phase, a[phase] - b[phase]])) as Record<UploadPhase, number>;
  return { cpu: minus(after.cpu, before.cpu), wall: minus(after.wall, before.wall), images: after.images - before.images, fsyncs: after.fsyncs - before.fsyncs };
}

/** Adds `more` into `total`. */
export function addPhases(total: PhaseReading, more: PhaseReading): void {
  for (const phase of UPLOAD_PHASES) {
    total.cpu[phase] += more.cpu[phase];
    total.wall[phase] += more.wall[phase];
  }
  total.images += more.images;
  total.fsyncs += more.fsyncs;
}

/** A reading of nothing, to add into. */
export function noPhases(): PhaseReading {
  const zero = (): Record<UploadPhase, number> => Object.fromEntries(UPLOAD_PHASES.map((phase) => [phase, 0])) as Record<UploadPhase, number>;
  return { cpu: zero(), wall: zero(), images: 0, fsyncs: 0 };
}
