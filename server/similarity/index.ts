import { popcount32, splitHash } from './signature';

/** One hit of a search: an image id and how many of its 64 hash bits differ from the query. */
export interface IndexHit {
  id: string;
  distance: number;
}

export interface IndexQuery {
  /** The query hash, 16 hex digits. */
  phash: string;
  /** Most hits returned. */
  limit: number;
  /** Only hits this close or closer (0..64). */
  maxDistance?: number;
  /** Hits for which this returns false are skipped (another source, the query image itself, gone). */
  accept?: (id: string) => boolean;
}

/** Growth factor of the typed arrays: 1.5 keeps the unused tail at most a third of the slots. */
const GROWTH = 1.5;

/**
 * The perceptual hashes of the stored images in memory, for a linear Hamming scan.
 *
 * Per image: the hash as two 32-bit words in typed arrays (8 bytes) and, in a parallel array, a
 * reference to the id string the store's record already holds (8 bytes on a 64-bit V8 without
 * pointer compression, as Node ships): 16 bytes per slot, at most 24 with the growth tail. No
 * id-to-slot map: removal scans for the slot (about 1 ms per 100,000 images), as removals are
 * rare next to searches. A linear scan over 100,000 hashes takes about 1 ms (npm run bench:similarity).
 */
export class SimilarityIndex {
  private hi = new Uint32Array(0);
  private lo = new Uint32Array(0);
  private ids: string[] = [];

  /** How many hashes are indexed. */
  get size(): number {
    return this.ids.length;
  }

  /** Bytes held for the hashes and id references, growth tail included (references at 8 bytes). */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength + this.ids.length * 8;
  }

  /**
   * Indexes one image's hash. The caller adds each id once (a new image, or an older one once
   * re-hashed): checking would cost a scan per add, quadratic when the index is built at start.
   */
  add(id: string, phash: string): void {
    const [hi, lo] = splitHash(phash);
    const slot = this.ids.length;
    if (slot === this.hi.length) this.grow();
    this.ids.push(id);
    this.hi[slot] = hi;
    this.lo[slot] = lo;
  }

  /** Removes an image's hash; false when it was not indexed. The last slot moves into the gap. */
  remove(id: string): boolean {
    const slot = this.ids.indexOf(id);
    if (slot < 0) return false;
    const last = this.ids.length - 1;
    this.hi[slot] = this.hi[last];
    this.lo[slot] = this.lo[last];
    this.ids[slot] = this.ids[last];
    this.ids.pop();
    return true;
  }

  /** True when the id is indexed (a scan: for tests and rare checks). */
  has(id: string): boolean {
    return this.ids.includes(id);
  }

  /** Drops every hash. */
  clear(): void {
    this.hi = new Uint32Array(0);
    this.lo = new Uint32Array(0);
    this.ids = [];
  }

  /** The nearest hashes to the query, nearest first; ties go to the newer image (ids sort by time). */
  search(query: IndexQuery): IndexHit[] {
    const [qh, ql] = splitHash(query.phash);
    const maxDistance = query.maxDistance ?? 64;
    const limit = query.limit;
    // A sorted top list of at most `limit` hits; `worst` is the distance a newcomer must beat.
    const hits: IndexHit[] = [];
    let worst = maxDistance;
    const { hi, lo, ids } = this;
    for (let i = 0; i < ids.length; i++) {
      const d = popcount32(hi[i] ^ qh) + popcount32(lo[i] ^ ql);
      if (d > worst) continue;
      const id = ids[i];
      if (query.accept && !query.accept(id)) continue;
      insertHit(hits, { id, distance: d }, limit);
      if (hits.length === limit) worst = hits[limit - 1].distance;
    }
    return hits;
  }

  private grow(): void {
    const capacity = Math.max(64, Math.ceil(this.hi.length * GROWTH));
    const hi = new Uint32Array(capacity);
    const lo = new Uint32Array(capacity);
    hi.set(this.hi);
    lo.set(this.lo);
    this.hi = hi;
    this.lo = lo;
  }
}

function before(a: IndexHit, b: IndexHit): boolean {
  return a.distance < b.distance || (a.distance === b.distance && a.id > b.id);
}

function insertHit(hits: IndexHit[], hit: IndexHit, limit: number): void {
  let at = hits.length;
  while (at > 0 && before(hit, hits[at - 1])) at--;
  if (at >= limit) return;
  hits.splice(at, 0, hit);
  if (hits.length > limit) hits.pop();
}
