import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write';
import type { Logger } from '../log';
import type { ImageStore, StoredImage } from '../storage/image-store';
import type { FrameStore } from './frame-store';
import type { DisplayProfile } from './profiles';
import { expandArgv, runCommand, type CommandRun } from './run-command';

/** What a display has done, persisted in data/displays/<name>.json so a restart keeps it. */
export interface DisplayRecord {
  /** The image on the panel now: the last one its command showed (or, without a command, framed). */
  shown: { id: string; at: string } | null;
  last_run: CommandRun | null;
  runs: number;
  failures: number;
  /** Requests to show that a newer one replaced while the panel was busy. */
  skipped: number;
}

/** How a show request ended. */
export type ShowOutcome =
  | { status: 'shown'; run?: CommandRun }
  | { status: 'failed'; run: CommandRun }
  | { status: 'skipped' };

interface Waiting {
  image: StoredImage;
  signal?: AbortSignal;
  done: (outcome: ShowOutcome) => void;
  fail: (err: unknown) => void;
}

interface Lane {
  busy: boolean;
  running: { id: string; started_at: string } | null;
  waiting: Waiting | null;
}

const EMPTY: DisplayRecord = { shown: null, last_run: null, runs: 0, failures: 0, skipped: 0 };

export interface DisplaysDeps {
  store: ImageStore;
  frames: FrameStore;
  profiles: () => readonly DisplayProfile[];
  log: Logger;
  dataDir: string;
}

/**
 * Puts images on the panels: renders the frame, then runs the display's command, one at a time
 * per display. While a command runs (an e-paper refresh takes 20-40 s) only the newest waiting
 * request is kept; the one it replaces ends as `skipped`. Knows nothing of HTTP.
 */
export class Displays {
  private readonly lanes = new Map<string, Lane>();
  private readonly records = new Map<string, Promise<DisplayRecord>>();
  /** The records' folder, made once. */
  private recordsDir?: Promise<unknown>;

  constructor(private readonly deps: DisplaysDeps) {}

  /** The display profiles in the settings in force. */
  profilesInForce(): readonly DisplayProfile[] {
    return this.deps.profiles();
  }

  /** The profile named `name` in the settings in force, if any. */
  profile(name: string): DisplayProfile | undefined {
    return this.deps.profiles().find((profile) => profile.name === name);
  }

  /** The persisted record of a display (shown image, last run, counts). */
  record(name: string): Promise<DisplayRecord> {
    let record = this.records.get(name);
    if (!record) {
      // The promise is kept, so concurrent first reads share one record object.
      record = readFile(this.recordPath(name), 'utf8')
        .then((text) => ({ ...EMPTY, ...(JSON.parse(text) as Partial<DisplayRecord>) }))
        .catch(() => ({ ...EMPTY }));
      this.records.set(name, record);
    }
    return record;
  }

  /** What runs on a display now, if anything. */
  running(name: string): { id: string; started_at: string } | null {
    return this.lanes.get(name)?.running ?? null;
  }

  /**
   * Shows `image` on display `profile`: waits for the panel, renders the frame and runs the
   * command. A newer request made while this one waits replaces it (outcome `skipped`).
   * @throws the render error, or an AbortError when `signal` aborts (shutdown) before it is shown.
   */
  show(profile: DisplayProfile, image: StoredImage, signal?: AbortSignal): Promise<ShowOutcome> {
    let lane = this.lanes.get(profile.name);
    if (!lane) {
      lane = { busy: false, running: null, waiting: null };
      this.lanes.set(profile.name, lane);
    }
    return new Promise<ShowOutcome>((done, fail) => {
      const replaced = lane.waiting;
      lane.waiting = { image, signal, done, fail };
      if (replaced) {
        void this.count(profile.name, (record) => { record.skipped++; });
        replaced.done({ status: 'skipped' });
      }
      if (!lane.busy) void this.pump(profile.name, lane);
    });
  }

  private async pump(name: string, lane: Lane): Promise<void> {
    lane.busy = true;
    while (lane.waiting) {
      const next = lane.waiting;
      lane.waiting = null;
      try {
        next.done(await this.showNow(name, next.image, next.signal, lane));
      } catch (err) {
        next.fail(err);
      }
    }
    lane.busy = false;
  }

  private async showNow(name: string, image: StoredImage, signal: AbortSignal | undefined, lane: Lane): Promise<ShowOutcome> {
    signal?.throwIfAborted();
    // The profile in force when its turn comes, not when it was asked for.
    const profile = this.profile(name);
    if (!profile) return { status: 'skipped' };
    const frame = await this.deps.frames.get(profile, image);
    const at = new Date().toISOString();
    if (!profile.command) {
      await this.count(name, (record) => { record.shown = { id: image.id, at }; });
      return { status: 'shown' };
    }
    const argv = expandArgv(profile.command, {
      frame: frame.path, image: this.deps.store.pngPath(image.id), id: image.id, source: image.source, display: name,
    });
    lane.running = { id: image.id, started_at: at };
    let run: CommandRun;
    try {
      run = await runCommand(argv, { timeoutMs: profile.command_timeout_s * 1000, imageId: image.id, signal });
    } finally {
      lane.running = null;
    }
    // Stopped by shutdown: not shown, so the consumer's cursor stays and a restart shows it again.
    signal?.throwIfAborted();
    await this.count(name, (record) => {
      record.last_run = run;
      record.runs++;
      if (run.ok) record.shown = { id: image.id, at: run.started_at };
      else record.failures++;
    });
    const summary = `display ${name}: ${image.id} exit=${run.exit_code ?? run.signal ?? run.error} ${run.duration_ms}ms${run.timed_out ? ' timed out' : ''}`;
    if (run.ok) this.deps.log.info(summary);
    // The output is not logged: GET /logs may be open to readers the output is not for.
    else this.deps.log.warn(`${summary}; its output is in GET /displays`);
    return run.ok ? { status: 'shown', run } : { status: 'failed', run };
  }

  private async count(name: string, change: (record: DisplayRecord) => void): Promise<void> {
    const record = await this.record(name);
    change(record);
    this.recordsDir ??= mkdir(join(this.deps.dataDir, 'displays'), { recursive: true });
    await this.recordsDir;
    await writeFileAtomic(this.recordPath(name), `${JSON.stringify(record)}\n`);
  }

  private recordPath(name: string): string {
    return join(this.deps.dataDir, 'displays', `${name}.json`);
  }
}
