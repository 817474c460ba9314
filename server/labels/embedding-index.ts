import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write';
import { isImageId } from '../storage/image-store';

/** The embedding's length: mobilenet_v2_140_224's pooled features. */
export const EMBEDDING_DIMENSIONS = 1792;

/** One file per image: its scale (float32, little-endian) then the vector as int8. */
const SCALE_BYTES = 4;
/** Files read at once while loading. */
const LOAD_BATCH = 32;
/** Growth factor of the arrays, as the hash index grows. */
const GROWTH = 1.5;

/** One hit of a content search: an image id and the cosine of its embedding with the query's. */
export interface EmbeddingHit {
  id: string;
  similarity: number;
}

/**
 * The content embeddings of the stored images: on disk, one small file per image in
 * data/embeddings/ (written as each is labelled, so the index is built incrementally and
 * survives a restart), and in memory as int8 for a linear cosine scan.
 *
 * Each unit-length vector is kept as int8 with its own scale (its largest component / 127):
 * 1796 bytes an image, about 17 MB for 10,000. The scan multiplies the int8 vectors by the query
 * in float64; the rounding moves a cosine by about 0.001, well under the gap between a near copy
 * and another picture (npm run bench:similarity prints the time over 10,000).
 *
 * The CLIP index is the same, in data/clip-embeddings/, with the export's width (512 for
 * ViT-B/32), learnt from its first vector: a model of another width replaces every vector.
 */
export class EmbeddingIndex {
  private vectors = new Int8Array(0);
  private scales = new Float32Array(0);
  private ids: string[] = [];

  private slots = new Map<string, number>();
  /** True when the width is learnt from the vectors (CLIP) rather than fixed. */
  private readonly learnt: boolean;
  /** Resolves once the files on disk are read. */
  private readonly loading: Promise<void>;

  private constructor(private readonly dir: string, private dimensions: number | undefined) {
    this.learnt = dimensions === undefined;
    this.loading = this.load();
    // A failure shows in every search that awaits it.
    this.loading.catch(() => undefined);
  }

  /**
   * The index in `dataDir`/embeddings. Its files are read in the background (10,000 take a few
   * seconds on a busy disk): {@link loaded} resolves once they are, so that a start never waits.
   */
  static open(dataDir: string): EmbeddingIndex {
    return new EmbeddingIndex(join(dataDir, 'embeddings'), EMBEDDING_DIMENSIONS);
  }

  /** The CLIP index in `dataDir`/clip-embeddings, of whatever width the export's vectors have. */
  static openClip(dataDir: string): EmbeddingIndex {
    return new EmbeddingIndex(join(dataDir, 'clip-embeddings'), undefined);
  }

  /** Resolves once the files on disk are in memory. */
  loaded(): Promise<void> {
    return this.loading;
  }

  private async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const ids = (await readdir(this.dir)).map((name) => (name.endsWith('.bin') ? name.slice(0, -4) : '')).filter(isImageId);
    // A few reads at a time: enough to keep the disk busy, few enough to leave the daemon room.
    for (let i = 0; i < ids.length; i += LOAD_BATCH) {
      await Promise.all(ids.slice(i, i + LOAD_BATCH).map(async (id) => {
        const bytes = await readFile(join(this.dir, `${id}.bin`)).catch(() => undefined);
        if (!bytes || bytes.length <= SCALE_BYTES) return;
        this.dimensions ??= bytes.length - SCALE_BYTES;
        // An embedding added meanwhile is newer than its file as listed.
        if (bytes.length === SCALE_BYTES + this.dimensions && !this.slots.has(id)) this.insert(id, bytes.readFloatLE(0), new Int8Array(bytes.buffer, bytes.byteOffset + SCALE_BYTES, this.dimensions));
      }));
    }
  }

  /** Images indexed. */
  get size(): number {
    return this.ids.length;
  }

  /** True when `id` has an embedding in memory. */
  has(id: string): boolean {
    return this.slots.has(id);
  }

  /** The stored embedding of `id`, dequantized; undefined when it has none. */
  get(id: string): Float32Array | undefined {
    const slot = this.slots.get(id);
    if (slot === undefined) return undefined;
    const scale = this.scales[slot];
    const width = this.dimensions!;
    return Float32Array.from(this.vectors.subarray(slot * width, (slot + 1) * width), (q) => q * scale);
  }

  /** Writes `id`'s unit-length embedding to disk, then indexes it (replacing any it had). */
  async add(id: string, embedding: Float32Array): Promise<void> {
    // After the load, which makes the folder and must not read an older file over this one.
    await this.loading;
    if (this.learnt && this.dimensions !== undefined && this.dimensions !== embedding.length) await this.clear();
    this.dimensions ??= embedding.length;
    const width = this.dimensions;
    if (embedding.length !== width) throw new Error(`an embedding has ${width} values, not ${embedding.length}`);
    let largest = 0;
    for (const value of embedding) largest = Math.max(largest, Math.abs(value));
    const scale = largest / 127 || 1;
    const bytes = Buffer.alloc(SCALE_BYTES + width);
    bytes.writeFloatLE(scale, 0);
    const quantized = new Int8Array(bytes.buffer, bytes.byteOffset + SCALE_BYTES, width);
    for (let i = 0; i < width; i++) quantized[i] = Math.round(embedding[i] / scale);
    await writeFileAtomic(join(this.dir, `${id}.bin`), bytes);
    this.remove(id);
    this.insert(id, bytes.readFloatLE(0), quantized);
  }

  /** Forgets `id` and removes its file. */
  async delete(id: string): Promise<void> {
    // After the load, so that it cannot read the file back in after it is gone.
    await this.loading;
    this.remove(id);
    await unlink(join(this.dir, `${id}.bin`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** The `limit` embeddings nearest to `query` (unit length) by cosine, nearest first; `accept` filters. */
  search(query: Float32Array, limit: number, accept?: (id: string) => boolean): EmbeddingHit[] {
    const hits: EmbeddingHit[] = [];
    const { vectors, scales, ids } = this;
    const width = this.dimensions ?? 0;
    // A query of another width (a CLIP export changed since the index was made) matches nothing.
    if (query.length !== width) return hits;
    for (let slot = 0; slot < ids.length; slot++) {
      let dot = 0;
      const base = slot * width;
      for (let i = 0; i < width; i++) dot += vectors[base + i] * query[i];
      const similarity = dot * scales[slot];
      if (hits.length === limit && similarity <= hits[limit - 1].similarity) continue;
      if (accept && !accept(ids[slot])) continue;
      let at = hits.length;
      while (at > 0 && similarity > hits[at - 1].similarity) at--;
      hits.splice(at, 0, { id: ids[slot], similarity });
      if (hits.length > limit) hits.pop();
    }
    return hits;
  }

  private insert(id: string, scale: number, vector: Int8Array): void {
    const slot = this.ids.length;
    if (slot === this.scales.length) this.grow();
    this.ids.push(id);
    this.slots.set(id, slot);
    this.scales[slot] = scale;
    this.vectors.set(vector, slot * this.dimensions!);
  }

  /** Removes `id` from memory; the last slot moves into the gap. */
  private remove(id: string): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    const last = this.ids.length - 1;
    const width = this.dimensions!;
    this.vectors.copyWithin(slot * width, last * width, (last + 1) * width);
    this.scales[slot] = this.scales[last];
    this.ids[slot] = this.ids[last];
    this.slots.set(this.ids[slot], slot);
    this.slots.delete(id);
    this.ids.pop();
  }

  /** Forgets every vector and removes their files: they are of another model. */
  private async clear(): Promise<void> {
    for (const id of [...this.ids]) {
      this.remove(id);
      await unlink(join(this.dir, `${id}.bin`)).catch(() => undefined);
    }
    this.vectors = new Int8Array(0);
    this.scales = new Float32Array(0);
    this.dimensions = undefined;
  }

  private grow(): void {
    const capacity = Math.max(64, Math.ceil(this.scales.length * GROWTH));
    const vectors = new Int8Array(capacity * this.dimensions!);
    vectors.set(this.vectors);
    const scales = new Float32Array(capacity);
    scales.set(this.scales);
    this.vectors = vectors;
    this.scales = scales;
  }
}
