// Labels and content search: what needs the models, and images not embedded yet.
import { AppError } from './app-error';

/** 404 for a content search while labels are off (no models, or the setting). */
export function contentSearchOff(): AppError {
  return new AppError('not_found', 'Search by content needs labels on: run `npm run models:install`, then set labels to auto or on (docs/labels.md)');
}

/** 503 for a content search from an image the labels consumer has not reached yet. */
export function notEmbeddedYet(): AppError {
  return new AppError('busy', 'This image has not been labelled yet; the labels consumer works through new images in order',
    { headers: { 'Retry-After': '5' } });
}

/** 404 for a content search from an image stored while labels were off, which has no embedding. */
export function noEmbedding(id: string): AppError {
  return new AppError('not_found', `Image ${id} has no content embedding: it was stored while labels were off`);
}

/** 413 too_many_pixels when the memory budget has no room for the labels worker beside the daemon. */
export function labelsOverMemoryBudget(costMb: number): AppError {
  return new AppError('too_many_pixels', `Labels need about ${Math.ceil(costMb)} MB beside the daemon, more than the memory budget leaves: `
    + 'raise MemoryHigh and MemoryMax (scripts/install.sh does when labels are on) or memory_budget_mb (docs/labels.md)');
}

/** 404 for a text search while no CLIP export is set, or labels are off. */
export function textSearchOff(): AppError {
  return new AppError('not_found', 'Search by text needs a CLIP model: put a CLIP export in the Xenova layout in a folder, set clip_model_dir to it '
    + 'in the settings file, run `npm run models:install -- --clip` and turn labels on (docs/labels.md#clip)');
}
