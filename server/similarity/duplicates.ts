import { Counter, type Registry } from 'prom-client';
import { MAX_SOURCE_LABELS, METRIC_PREFIX } from '../monitoring/metrics';
import type { StoredImage } from '../storage/image-store';
import type { DuplicateRecord } from '../store-events';
import { hammingDistance, isSignature, type ImageSignature } from './signature';

/**
 * The near-duplicate decision of one upload: a duplicate of the newest image of its source when
 * their hashes lie within `maxDistance` bits (0 turns suppression off).
 */
export function findDuplicate(
  signature: ImageSignature,
  newest: StoredImage | undefined,
  maxDistance: number,
): DuplicateRecord | undefined {
  if (maxDistance <= 0 || !newest || !isSignature(newest.signature)) return undefined;
  const distance = hammingDistance(signature.phash, newest.signature.phash);
  return distance <= maxDistance ? { duplicate_of: newest.id, distance } : undefined;
}

/** Uploads not stored as near-duplicates, by source, since start; mirrored on /metrics once registered. */
export class DuplicateCounts {
  private readonly counts = new Map<string, number>();
  private metric?: Counter<'source'>;

  /** Adds `count` duplicates of `source`. */
  add(source: string, count: number): void {
    if (count <= 0) return;
    this.counts.set(source, (this.counts.get(source) ?? 0) + count);
    // Bounded label set, as the other per-source metrics.
    this.metric?.inc({ source: this.counts.size <= MAX_SOURCE_LABELS ? source : 'other' }, count);
  }

  /** The counters by source, sorted by source. */
  read(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Adds image_receiver_duplicates_total{source} to a Prometheus registry (the monitor's). */
  register(registry: Registry): void {
    this.metric = new Counter({
      name: `${METRIC_PREFIX}duplicates_total`, help: 'Uploads not stored as near-duplicates of the newest image of their source, by source',
      labelNames: ['source'], registers: [registry],
    });
  }
}
