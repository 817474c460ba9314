import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DirectorySync, fsyncPath, replaceFile, TEMP_PREFIX, writeFileAtomic, writeNewDurably } from '../atomic-write';
import type { ImageLabel } from '../image-labels';

/**
 * The global signature of an image: a 64-bit DCT perceptual hash of its luminance and the mean
 * colour of each quarter. Two re-encodings or resizings of one picture land a few bits apart;
 * unrelated pictures about 32 apart. It is not turn- or mirror-invariant (see docs/similarity.md). Computed by
 * server/similarity/signature.ts; kept with the record it belongs to.
 */
export interface ImageSignature {
  /** The 64-bit perceptual hash as 16 lower-case hex digits. */
  phash: string;
  /** Mean RGB of the top-left, top-right, bottom-left and bottom-right quarters: 24 hex digits (12 bytes). */
  colors: string;
}

/** The stored facts of one image; the HTTP layer adds its URL. */
export interface StoredImage {
  id: string;
  source: string;
  width: number;
  height: number;
  bytes: number;
  format: 'png';
  compression_level: number;
  received_at: string;
  captured_at: string | null;
  processing_ms: number;
  original: { width: number; height: number; format: string; bytes: number; orientation: number };
  rotated: boolean;
  resized: boolean;
  /** Camera make, model and EXIF capture time, when the upload carried them. */
  exif?: { make?: string; model?: string; taken_at?: string };
  /** Per-request options the client sent with the image (see upload/upload-flow.ts). */
  options?: Record<string, unknown>;
  /** Perceptual hash and colour summary; absent on images stored before similarity until re-hashed. */
  signature?: ImageSignature;
  /** What the labels consumer found in it, best first; absent until it has looked (docs/labels.md). */
  labels?: ImageLabel[];
}

/** What a caller supplies; the store assigns the id. */
export type NewImage = Omit<StoredImage, 'id'>;

export interface ListQuery {
  limit: number;
  /** Only images older than this id (the `next` cursor of the previous page). */
  before?: string;
  /** Only images at or after this id, or an id's leading time (`20261124T`: from that UTC day on). */
  from?: string;
  source?: string;
  /** Only images this accepts (a label filter); the others are passed over. */
  accept?: (image: StoredImage) => boolean;
}

/** Emptied request folders kept for reuse at most: as many as uploads are in flight on a Pi. */
const SPARE_TEMP_DIRS = 4;

/** Ids sort by time: 20261124T011115123-0001-a1b2 (UTC, sequence within the millisecond, random). */
const ID_PATTERN = /^\d{8}T\d{9}-[0-9a-z]{4}-[0-9a-f]{4}$/;

/** True when `id` has the shape of an image id, so it is safe to use in a file name. */
export function isImageId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/**
 * The images on disk and their index. An image is committed when both its flushed PNG and its
 * flushed metadata file are named in images/ and the folder is flushed, so a crash at any moment
 * leaves either a listed, complete image or leftovers that {@link ImageStore.open} removes.
 */
export class ImageStore {
  /** Every image, oldest first (ids sort by time). */
  private readonly index: StoredImage[] = [];
  private readonly byId = new Map<string, StoredImage>();
  /** The PNG bytes of the listed images, kept as they come and go: read at every upload, twice. */
  private storedBytes = 0;
  private lastIdTime = '';
  private sequence = 0;
  /**
   * Ids being committed, or committed by a request that is not answered yet: not yet part of the
   * log that durable consumers follow, and never removed by retention.
   */
  private readonly unsettled = new Set<string>();
  /** The record updates in flight, chained so that each applies over the one before. */
  private updates: Promise<unknown> = Promise.resolve();

  /**
   * Test seam: awaited before each write of {@link ImageStore.add}, the PNG's commit then the
   * record's; a throw acts as that write failing (ENOSPC, EIO). Unset in the daemon.
   */
  beforeWrite?: (step: 'png' | 'record') => void | Promise<void>;

  /** Emptied request folders kept for the next requests (see {@link releaseTempDir}). */
  private readonly spareTempDirs: string[] = [];

  /** Commits share the fsync of images/ (group commit). */
  private readonly directory: DirectorySync;

  private constructor(readonly dataDir: string) {
    this.directory = new DirectorySync(this.imagesDir);
  }

  get imagesDir(): string {
    return join(this.dataDir, 'images');
  }

  get tempRoot(): string {
    return join(this.dataDir, 'tmp');
  }

  /**
   * Opens the store under `dataDir`: creates its folders, removes temporary leftovers and
   * uncommitted PNGs, and loads the index from the metadata files.
   */
  static async open(dataDir: string): Promise<ImageStore> {
    const store = new ImageStore(dataDir);
    await mkdir(store.imagesDir, { recursive: true });
    await rm(store.tempRoot, { recursive: true, force: true });
    await mkdir(store.tempRoot, { recursive: true });
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    const names = await readdir(this.imagesDir);
    const pngs = new Set(names.filter((name) => name.endsWith('.png')).map((name) => name.slice(0, -4)));
    const committed = new Set<string>();
    for (const name of names) {
      const id = name.slice(0, -5);
      if (!name.endsWith('.json') || !isImageId(id)) continue;
      const record = await this.readRecord(name);
      if (record && record.id === id && pngs.has(id)) {
        this.index.push(record);
        committed.add(id);
      } else {
        // Metadata without its PNG or unreadable: never listed, so remove it.
        await rm(join(this.imagesDir, name), { force: true });
      }
    }
    for (const name of names) {
      const uncommittedPng = name.endsWith('.png') && !committed.has(name.slice(0, -4));
      if (name.startsWith(TEMP_PREFIX) || uncommittedPng) await rm(join(this.imagesDir, name), { force: true });
    }
    this.index.sort((a, b) => compareIds(a.id, b.id));
    for (const record of this.index) {
      this.byId.set(record.id, record);
      this.storedBytes += record.bytes;
    }
    const newest = this.index.at(-1);
    if (newest) {
      // New ids must sort after the stored ones even if the clock stepped back across a restart.
      this.lastIdTime = newest.id.slice(0, 18);
      this.sequence = parseInt(newest.id.slice(19, 23), 36);
    }
  }

  private async readRecord(name: string): Promise<StoredImage | undefined> {
    try {
      return JSON.parse(await readFile(join(this.imagesDir, name), 'utf8')) as StoredImage;
    } catch {
      return undefined;
    }
  }

  /**
   * An empty private folder for one request's uploads and outputs: one a finished request left
   * ({@link releaseTempDir}), or a new one. Give it back with {@link releaseTempDir} once every
   * writer into it has finished, else with {@link removeTempDir}.
   */
  async createTempDir(): Promise<string> {
    const spare = this.spareTempDirs.pop();
    if (spare !== undefined) return spare;
    const dir = join(this.tempRoot, randomBytes(8).toString('hex'));
    await mkdir(dir);
    return dir;
  }

  /**
   * Empties the folder of a request whose writers have all finished (it was stored) and keeps it
   * for a later request, up to {@link SPARE_TEMP_DIRS}: a mkdir and an rmdir fewer per upload,
   * each a round trip to the thread pool. A caller that knows it left the folder `empty` spares
   * it the listing, one more. Never throws.
   */
  async releaseTempDir(dir: string, empty = false): Promise<void> {
    if (this.spareTempDirs.length >= SPARE_TEMP_DIRS) return this.removeTempDir(dir);
    try {
      if (!empty) await emptyFolder(dir);
    } catch {
      return this.removeTempDir(dir);
    }
    this.spareTempDirs.push(dir);
  }

  /**
   * Removes a request's folder and what is in it, also while a refused upload's writer may still
   * be creating its file. Never throws: what it cannot remove is removed at the next start
   * ({@link open}).
   */
  async removeTempDir(dir: string): Promise<void> {
    // An upload's folder holds a file or a few and nothing deeper: unlinking them and the folder
    // is a quarter of what rm's recursive walk costs (lstat, rmdir, readdir, lstat and unlink for
    // each, rmdir).
    try {
      await emptyFolder(dir);
      await rmdir(dir);
    } catch {
      // A write stream opens its file asynchronously, so one destroyed by a refusal may still be
      // creating it, which fails a single pass with ENOTEMPTY: rm retries on that.
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => undefined);
    }
  }

  /**
   * Moves the finished PNG at `pngFile` into the store and commits its metadata. The id is taken
   * here, at commit, so ids follow commit order; the image stays unsettled (see {@link settle})
   * until its request is answered.
   *
   * The PNG is flushed and renamed into images/ while the record is written into images/ and
   * flushed, then the directory is flushed once for both, and for every other image committed
   * meanwhile ({@link DirectorySync}): three fsyncs per image at most, fewer when images commit
   * together. Until the directory's fsync a power cut may keep either name or none, or an
   * empty record, and {@link open} removes a PNG without its record and a record without its PNG
   * or unreadable; the caller answers only after this resolves.
   * @throws the fs error (ENOSPC, EIO, ...); then nothing is listed and no file is left in images/.
   */
  async add(pngFile: string, image: NewImage): Promise<StoredImage> {
    const record: StoredImage = { id: this.nextId(), ...image };
    const pngPath = this.pngPath(record.id);
    const metaPath = this.metaPath(record.id);
    this.unsettled.add(record.id);
    try {
      await this.beforeWrite?.('png');
      // The two files are written at once: the file system may serve both flushes with one
      // journal commit. The record is written under its own name: a power cut leaves it whole or
      // unreadable, and {@link load} lists an image only with a readable record and its PNG, so
      // no temp file and rename are needed for it. The PNG is renamed in once flushed, so that it
      // is whole, without waiting for the record: a PNG without its record is never listed.
      const [png, written] = await Promise.allSettled([
        fsyncPath(pngFile).then(() => rename(pngFile, pngPath)),
        (async () => {
          await this.beforeWrite?.('record');
          await writeNewDurably(metaPath, `${JSON.stringify(record)}\n`);
        })(),
      ]);
      if (png.status === 'rejected') throw png.reason;
      if (written.status === 'rejected') throw written.reason;
      await this.directory.sync();
    } catch (err) {
      this.unsettled.delete(record.id);
      // The record first, so that a crash in between leaves no record without its PNG listed.
      await rm(metaPath, { force: true });
      await rm(pngPath, { force: true });
      throw err;
    }
    // Concurrent adds may finish out of id order, so insert rather than append.
    this.index.splice(lowerBound(this.index, record.id), 0, record);
    this.byId.set(record.id, record);
    this.storedBytes += record.bytes;
    return record;
  }

  /**
   * Releases the images folder, which the store keeps open for its fsyncs (a file system cannot be
   * unmounted under it); a later commit opens it again.
   */
  close(): Promise<void> {
    return this.directory.close();
  }

  /** Marks images whose request has been answered: they join the log consumers follow. */
  settle(ids: readonly string[]): void {
    for (const id of ids) this.unsettled.delete(id);
  }

  /** True while an image is being committed or its request is not answered yet. */
  isUnsettled(id: string): boolean {
    return this.unsettled.has(id);
  }

  /**
   * The settled images after `cursor` (all when null), oldest first, at most `limit`: what a
   * durable consumer has still to handle. It stops at the first unsettled id, so that an image
   * committed later can never be passed over by a cursor that moved beyond it.
   */
  after(cursor: string | null, limit: number): StoredImage[] {
    // An unsettled id may not be in the index yet (its files are still being written), so stop
    // at the lowest of them, listed or not.
    let floor: string | undefined;
    for (const id of this.unsettled) if (floor === undefined || id < floor) floor = id;
    const images: StoredImage[] = [];
    for (let i = cursor === null ? 0 : upperBound(this.index, cursor); i < this.index.length && images.length < limit; i++) {
      if (floor !== undefined && this.index[i].id >= floor) break;
      images.push(this.index[i]);
    }
    return images;
  }

  /** How many listed images have ids after `cursor` (all when null). */
  countAfter(cursor: string | null): number {
    return this.index.length - (cursor === null ? 0 : upperBound(this.index, cursor));
  }

  /** The newest image's id, or null when the store is empty. */
  newestId(): string | null {
    return this.index.at(-1)?.id ?? null;
  }

  /**
   * Replaces the record of a listed image with `update` applied, atomically on disk: for facts
   * learned after commit. The id never changes. With `relearnable` (a signature: an image without
   * one is re-hashed at start) the directory is not flushed, so a power cut may keep the former
   * record, whole; otherwise (labels, which their consumer's cursor will not come back for) the
   * directory is flushed too.
   */
  update(id: string, update: Partial<NewImage>, { relearnable = false } = {}): Promise<StoredImage | undefined> {
    // One at a time, each over the record the one before left: two features learning facts of
    // one image at once (its hash, its labels) must not write over each other's.
    const next = this.updates.then(async () => {
      const current = this.byId.get(id);
      if (!current) return undefined;
      const record: StoredImage = { ...current, ...update, id };
      await (relearnable ? replaceFile : writeFileAtomic)(this.metaPath(id), `${JSON.stringify(record)}\n`);
      const listed = this.byId.get(id);
      if (!listed) return undefined;
      this.storedBytes += record.bytes - listed.bytes;
      this.byId.set(id, record);
      this.index[lowerBound(this.index, id)] = record;
      return record;
    });
    this.updates = next.catch(() => undefined);
    return next;
  }

  get(id: string): StoredImage | undefined {
    return this.byId.get(id);
  }

  /** The newest image, of one source if given. */
  latest(source?: string): StoredImage | undefined {
    return this.list({ limit: 1, source }).images[0];
  }

  /** Every image, oldest first: retention's candidates. Read it before the store changes again. */
  oldestFirst(): IterableIterator<StoredImage> {
    return this.index.values();
  }

  /** A page of images, newest first, and the cursor of the next page (null when none). */
  list(query: ListQuery): { images: StoredImage[]; next: string | null } {
    let end = this.index.length;
    if (query.before !== undefined) {
      end = lowerBound(this.index, query.before);
    }
    // Ids sort by time: the images from `from` on are the last ones of the index.
    const start = query.from === undefined ? 0 : lowerBound(this.index, query.from);
    const images: StoredImage[] = [];
    let i = end - 1;
    for (; i >= start && images.length < query.limit; i--) {
      const record = this.index[i];
      if (this.fits(record, query)) images.push(record);
    }
    const more = images.length === query.limit && this.hasOlder(i, start, query);
    return { images, next: more ? images[images.length - 1].id : null };
  }

  private hasOlder(from: number, start: number, query: ListQuery): boolean {
    for (let i = from; i >= start; i--) {
      if (this.fits(this.index[i], query)) return true;
    }
    return false;
  }

  private fits(image: StoredImage, query: ListQuery): boolean {
    return (query.source === undefined || image.source === query.source) && (query.accept === undefined || query.accept(image));
  }

  /** Where the PNG of a listed image is. */
  pngPath(id: string): string {
    return join(this.imagesDir, `${id}.png`);
  }

  private metaPath(id: string): string {
    return join(this.imagesDir, `${id}.json`);
  }

  /** Every source that has an image, sorted, for the dashboard's filter. */
  sources(): string[] {
    return [...new Set(this.index.map((record) => record.source))].sort();
  }

  /** How many images are stored and their total PNG bytes. */
  totals(): { count: number; bytes: number } {
    return { count: this.index.length, bytes: this.storedBytes };
  }

  /**
   * Removes one image: its metadata first, so that it is unlisted before its PNG goes. Files
   * derived from it (thumbnails, frames) belong to their makers, which remove them when told of
   * the removal. Returns the removed record, or undefined when there is no such image.
   */
  async delete(id: string): Promise<StoredImage | undefined> {
    const record = this.byId.get(id);
    if (!record) return undefined;
    this.byId.delete(id);
    this.unsettled.delete(id);
    this.index.splice(lowerBound(this.index, id), 1);
    this.storedBytes -= record.bytes;
    await unlink(this.metaPath(id)).catch(ignoreMissing);
    await unlink(this.pngPath(id)).catch(ignoreMissing);
    await this.directory.sync();
    return record;
  }

  /** Removes every image; returns the removed records, oldest first. */
  async deleteAll(): Promise<StoredImage[]> {
    const removed: StoredImage[] = [];
    for (const id of this.index.map((record) => record.id)) {
      const record = await this.delete(id);
      if (record) removed.push(record);
    }
    return removed;
  }

  /** A new id later than every id this process gave, even if the clock steps back. */
  private nextId(): string {
    const now = new Date().toISOString().replace(/[-:.Z]/g, '');
    if (now > this.lastIdTime) {
      this.lastIdTime = now;
      this.sequence = 0;
    } else {
      this.sequence++;
    }
    const sequence = this.sequence.toString(36).padStart(4, '0');
    return `${this.lastIdTime}-${sequence}-${randomBytes(2).toString('hex')}`;
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The index of the first record whose id is not less than `id`. */
function lowerBound(index: StoredImage[], id: string): number {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (index[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of the first record whose id is greater than `id`. */
function upperBound(index: StoredImage[], id: string): number {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (index[mid].id <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Unlinks the files of a request's temp folder, which holds nothing deeper. */
async function emptyFolder(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await unlink(join(dir, name));
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
