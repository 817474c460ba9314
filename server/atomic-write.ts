import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsync, open as openCallback, openSync, write } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';

/** open() flags for a new file whose writes are durable when they return ('wx' and O_DSYNC). */
const WRITE_NEW_DURABLY = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC;

const openFile = promisify(openCallback);
const writeChunk = promisify(write);
const fsyncFile = promisify(fsync);

/** Prefix of every temporary file this daemon writes, so start-up can find and remove leftovers. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Writes a file so that readers see either the old content or the whole new one, never a part:
 * write a temporary file beside it, fsync it, rename it over the target, fsync the directory.
 * @throws the underlying fs error (ENOSPC, EIO, ...) after removing the temporary file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await replaceFile(path, data);
  await fsyncPath(dirname(path));
}

/**
 * Replaces a file so that readers, and the file system after a power cut, see the old content or
 * the whole new one, never a part; the directory is not synced, so a power cut may keep the old
 * content. For facts that can be learned again (a record's signature).
 * @throws the underlying fs error after removing the temporary file.
 */
export async function replaceFile(path: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(path);
  await writeNewDurably(temp, data);
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Creates the file `path`, which must not exist, with `data`, flushed to the device; its name is
 * durable once the caller syncs the directory. A power cut before then may leave the file empty
 * or whole but never wrong: for a file that is either complete or ignored (an upload's record).
 * @throws the underlying fs error (EEXIST, ENOSPC, ...) after removing what it created.
 */
export async function writeNewDurably(path: string, data: string | Uint8Array): Promise<void> {
  // O_DSYNC: the write returns once the data, and the size that makes it readable, are on the
  // device, as fdatasync() would make them, with one call to the thread pool fewer. O_EXCL: a
  // failure removes only a file this call created.
  const fd = await openFile(path, WRITE_NEW_DURABLY, 0o644);
  try {
    fsyncs++;
    await writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
  } catch (err) {
    closeSync(fd);
    await rm(path, { force: true });
    throw err;
  }
  // Closed on the event loop, as in {@link fsyncPath}: its data is on the device already.
  closeSync(fd);
}

/** Writes all of `data` at the file's offset, however many writes it takes. */
async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length;) done += (await writeChunk(fd, data, done, data.length - done)).bytesWritten;
}

/** A fresh temporary path beside `path`, carrying {@link TEMP_PREFIX}. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
}

/**
 * Flushes a file's data, or a directory's entries (create, rename, unlink), to the device.
 */
export async function fsyncPath(path: string): Promise<void> {
  // Opened and closed on the event loop, only the flush in the thread pool: opening a file to
  // read and closing it again do no I/O on a local file system, while each round trip to the
  // thread pool cost the daemon about 80 µs of CPU (a wake-up of a pool thread and of the loop;
  // measured on the build VM, 0.15-0.19 ms per fsyncPath). An upload's PNG is flushed this way.
  const fd = openSync(path, 'r');
  try {
    fsyncs++;
    await fsyncFile(fd);
  } finally {
    closeSync(fd);
  }
}

let fsyncs = 0;

/** Flushes to the device made by this process so far, fsync calls and O_DSYNC writes (the benchmark prints them per image). */
export function fsyncCount(): number {
  return fsyncs;
}

function syncHandle(handle: FileHandle): Promise<void> {
  fsyncs++;
  return handle.sync();
}

/**
 * Group commit for one directory: renames made into it become durable with one fsync of the
 * directory, shared by every caller that asks while one is under way. A caller's renames are
 * covered only by an fsync that starts after them, so one that asks while an fsync runs waits for
 * the next, which then serves everyone who asked meanwhile: n concurrent commits cost two
 * directory fsyncs at most, not n.
 */
export class DirectorySync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /**
   * The directory, opened at the first sync and kept for the next ones: an open and a close fewer
   * per commit. It is the directory the daemon created at start; after a failed fsync it is opened
   * again.
   */
  private handle: Promise<FileHandle> | undefined;

  constructor(readonly dir: string) {}

  /**
   * Resolves once every rename into the directory made before the call is on the device.
   * @throws the fsync's error, to every caller it was to cover.
   */
  sync(): Promise<void> {
    if (!this.running) return this.start();
    this.next ??= this.running.catch(() => undefined).then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.flush().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Closes the directory kept open; a later sync opens it again. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.then((opened) => opened.close()).catch(() => undefined);
  }

  private async flush(): Promise<void> {
    const handle = this.handle ??= open(this.dir, 'r');
    try {
      await syncHandle(await handle);
    } catch (err) {
      if (this.handle === handle) this.handle = undefined;
      void handle.then((opened) => opened.close()).catch(() => undefined);
      throw err;
    }
  }
}
