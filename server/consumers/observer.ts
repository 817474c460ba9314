import type { StoredImage } from '../storage/image-store';
import type { DuplicateRecord } from '../upload/upload-flow';

/** Why committed images were removed. */
export type RemovalReason = 'deleted' | 'deleted_all' | 'retention';

/** An upload that was refused, with the error code the client got. */
export interface Rejection {
  code: string;
  source: string;
}

/**
 * Cheap in-process work after the store changes: counters, the live stream, the log, derived
 * files. Called synchronously; a throw is logged and never reaches the upload.
 */
export interface StoreObserver {
  /** Names it in the log when it fails. */
  readonly name: string;
  /** Once a whole request has committed: its images, in commit order. */
  committed?(images: readonly StoredImage[]): void;
  /**
   * After committed images were removed (API delete, delete-all, retention). A returned promise
   * is awaited before the removal is answered, so derived files are gone by then.
   */
  removed?(images: readonly StoredImage[], reason: RemovalReason): void | Promise<void>;
  /** An upload was refused. */
  rejected?(rejection: Rejection): void;
  /** Uploads of `source` not stored because they repeat a stored image. */
  duplicates?(records: readonly DuplicateRecord[], source: string): void;
}
