import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write';
import { ProcessingQueue } from '../memory/processing-queue';
import type { RemovalReason, StoreObserver } from '../store-events';
import type { ImageStore, StoredImage } from '../storage/image-store';
import { renderFrame, type FrameOverrides } from './frame';
import { frameWorkingSetMb } from './frame-memory';
import { renderFingerprint, ROTATION_MODES, type DisplayProfile, type RotationMode } from './profiles';

/** A frame on disk, ready to send or hand to a display command. */
export interface Frame {
  path: string;
  bytes: number;
}

/** Previews that may wait while one renders. */
const PREVIEWS_WAITING = 2;

/** Name of the file beside a display's frames that records the profile they were made with. */
const PROFILE_FILE = 'profile.json';

/**
 * The display frames: derived files under data/frames/<display>/<id>.png, each made once and
 * removed with its image. Frames are made one at a time, in a line of their own, so a burst of
 * them takes at most one place among the uploads; each is then rendered through `processing`, the
 * upload queue, with its estimated working set (frame-memory.ts), so that a frame and the uploads
 * in flight together stay within the memory budget, as uploads do among themselves. When a
 * profile's rendering fields change, its old frames are dropped and made again on demand.
 */
export class FrameStore implements StoreObserver {
  readonly name = 'frames';
  private readonly making = new Map<string, Promise<Frame>>();
  private readonly checked = new Map<string, string>();
  private readonly line = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => 100 });
  /**
   * Previews wait in a short line of their own: a slider sends one after another, and only the
   * newest matters, so beyond {@link PREVIEWS_WAITING} the next is refused as busy.
   */
  private readonly previews = new ProcessingQueue({ concurrency: () => 1, maxWaiting: () => PREVIEWS_WAITING });

  constructor(private readonly store: ImageStore, private readonly processing: ProcessingQueue) {}

  get framesDir(): string {
    return join(this.store.dataDir, 'frames');
  }

  /** Where the frame of image `id` for display `display` is kept. */
  framePath(display: string, id: string): string {
    return join(this.framesDir, display, `${id}.png`);
  }

  /**
   * The frame of `image` on `profile`, made now if it does not exist yet.
   * @throws the render error (an unreadable source, a deleted image), or AppError busy from either queue.
   */
  async get(profile: DisplayProfile, image: StoredImage): Promise<Frame> {
    await this.checkProfile(profile);
    const path = this.framePath(profile.name, image.id);
    const existing = await stat(path).catch(() => undefined);
    if (existing) return { path, bytes: existing.size };
    const key = `${profile.name}/${image.id}`;
    let pending = this.making.get(key);
    if (!pending) {
      const costMb = frameWorkingSetMb(profile, image);
      pending = this.line.run(() => this.processing.run(() => this.make(profile, image, path), costMb)).finally(() => this.making.delete(key));
      this.making.set(key, pending);
    }
    return pending;
  }

  /**
   * The frame of `image` as `profile` would make it, rendered and never stored: how a panel's
   * settings look before they are saved. Weighed by the processing queue as a stored frame is.
   * `overrides` are the image's own choices the preview keeps (those it does not set itself).
   * @throws AppError busy when previews or uploads are full, or the render error.
   */
  preview(profile: DisplayProfile, image: StoredImage, overrides: FrameOverrides): Promise<Buffer> {
    const costMb = frameWorkingSetMb(profile, image);
    return this.previews.run(() => this.processing.run(() => renderFrame(this.store.pngPath(image.id), profile, overrides), costMb));
  }

  private async make(profile: DisplayProfile, image: StoredImage, path: string): Promise<Frame> {
    const data = await renderFrame(this.store.pngPath(image.id), profile, frameOverrides(image));
    await writeFileAtomic(path, data);
    if (!this.store.get(image.id)) {
      // Removed while rendering: its removal has run already, so the frame goes here.
      await rm(path, { force: true });
      throw new Error(`image ${image.id} was removed while its frame was made`);
    }
    return { path, bytes: data.length };
  }

  /** Removes the frames of removed images, on every display: derived files go with their image. */
  async removed(images: readonly StoredImage[], _reason: RemovalReason): Promise<void> {
    const displays = await readdir(this.framesDir).catch(() => [] as string[]);
    for (const image of images) {
      for (const display of displays) await rm(this.framePath(display, image.id), { force: true });
    }
  }

  /** Drops a display's frames when they were made with other rendering fields than `profile`'s. */
  private async checkProfile(profile: DisplayProfile): Promise<void> {
    const fingerprint = renderFingerprint(profile);
    if (this.checked.get(profile.name) === fingerprint) return;
    const dir = join(this.framesDir, profile.name);
    const recorded = await readFile(join(dir, PROFILE_FILE), 'utf8').catch(() => undefined);
    if (recorded !== fingerprint) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, PROFILE_FILE), fingerprint);
    }
    this.checked.set(profile.name, fingerprint);
  }
}

/** The per-image choices kept in the record (`rotation_mode`, `auto_zoom`) as frame overrides. */
export function frameOverrides(image: StoredImage): FrameOverrides {
  const options = image.options ?? {};
  const overrides: FrameOverrides = {};
  if (ROTATION_MODES.includes(options.rotation_mode as RotationMode)) overrides.rotation_mode = options.rotation_mode as RotationMode;
  if (typeof options.auto_zoom === 'boolean') overrides.fit = options.auto_zoom ? 'cover' : 'contain';
  return overrides;
}
