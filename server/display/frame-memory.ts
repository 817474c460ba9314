import type { FieldErrors } from '../errors';
import { MAX_PANEL, type PanelSize } from '../display-setting';
import { DAEMON_AT_REST_MB, type MemoryBudget } from '../memory/memory-budget';

export { MAX_PANEL };
import { DECODED_MB_PER_MP } from '../memory/working-set';

/** A width and a height in pixels. */
export type Size = PanelSize;

/**
 * What rendering one frame adds to the daemon's RSS, calibrated with `npm run bench:frame-memory`
 * (docs/benchmarks.md) and rounded up: per megapixel of panel, the resized RGB (3 bytes), the
 * palette indices (1), the PNG's rows and deflate output, and libvips' resize buffers; whatever
 * the size, libvips' and the encoder's state.
 */
const FRAME_MB_PER_PANEL_MP = 5.25;
const FRAME_FIXED_MB = 10;

const MAX_PANEL_PIXELS = MAX_PANEL.width * MAX_PANEL.height;

/**
 * The memory, in MiB, rendering a frame for a `panel` is expected to add to the daemon's RSS at
 * its peak: the panel's part and, when known, the stored image's, decoded as a PNG (rows stream,
 * but a large shrink holds more of them).
 */
export function frameWorkingSetMb(panel: Size, source?: Size): number {
  const panelMp = (panel.width * panel.height) / 1e6;
  const sourceMp = source ? (source.width * source.height) / 1e6 : 0;
  return FRAME_FIXED_MB + FRAME_MB_PER_PANEL_MP * panelMp + DECODED_MB_PER_MP.png * sourceMp;
}

/** The most a frame's panel part may need, and why, as a refusal says it. */
export interface FrameLimit {
  mb: number;
  why: string;
}

/**
 * The limit a panel is checked against when it is configured: the frame of {@link MAX_PANEL}
 * on every device and, under a memory budget (enable_memory_optimization), what the budget leaves
 * beside {@link DAEMON_AT_REST_MB} when that is less. The stored image's own part is weighed when
 * the frame is rendered, by the processing queue: it depends on max_image_dimension, not the panel.
 */
export function frameLimit(budget: MemoryBudget | null): FrameLimit {
  const capMb = frameWorkingSetMb(MAX_PANEL);
  const cap = {
    mb: capMb,
    why: `the ${Math.ceil(capMb)} MB a frame may take on any device (a ${MAX_PANEL.width}x${MAX_PANEL.height} panel's, which a 512 MB Pi holds beside the daemon and an upload)`,
  };
  if (!budget) return cap;
  const roomMb = budget.mb - DAEMON_AT_REST_MB;
  if (roomMb >= capMb) return cap;
  return { mb: roomMb, why: `the memory budget of ${budget.mb} MB (${budget.origin}) allows beside the daemon at rest (about ${DAEMON_AT_REST_MB} MB)` };
}

/**
 * Why a panel of `width` x `height` cannot be configured under `limit`, naming the largest panel
 * of its shape that fits; undefined when it fits. `at` is the profile's path (`displays[0]`).
 */
export function panelTooLarge(at: string, width: number, height: number, limit: FrameLimit): string | undefined {
  const needMb = frameWorkingSetMb({ width, height });
  if (needMb <= limit.mb) return undefined;
  const largest = largestPanel(width, height, limit);
  const advice = largest ? `the largest panel of this shape that fits is ${largest.width}x${largest.height}` : 'no panel fits: raise the memory budget (memory_budget_mb)';
  return `${at}: a ${width}x${height} frame needs about ${Math.ceil(needMb)} MB to render, more than ${limit.why}; ${advice}`;
}

/**
 * The largest panel of the shape of `width` x `height` whose frame fits `limit`, if one of at
 * least `minSide` pixels a side does.
 */
export function largestPanel(width: number, height: number, limit: FrameLimit, minSide = 8): Size | undefined {
  // The cap itself is given exactly, so that 8192x8192 comes out as 4096x4096, not 4095x4095.
  const pixels = limit.mb >= frameWorkingSetMb(MAX_PANEL) ? MAX_PANEL_PIXELS : ((limit.mb - FRAME_FIXED_MB) / FRAME_MB_PER_PANEL_MP) * 1e6;
  const scale = Math.sqrt(Math.max(0, pixels) / (width * height));
  const size = { width: Math.floor(width * scale), height: Math.floor(height * scale) };
  return size.width >= minSide && size.height >= minSide ? size : undefined;
}

/**
 * Why each panel of `profiles` cannot be rendered under `budget`, keyed by its path
 * (`displays[0]`); none when every frame fits, or without a budget (the cap on its pixels is
 * checked with the profile, profiles.ts).
 */
export function panelsOverBudget(profiles: readonly Size[], budget: MemoryBudget | null): FieldErrors | undefined {
  const limit = frameLimit(budget);
  const fields: FieldErrors = Object.create(null);
  profiles.forEach((panel, i) => {
    const reason = panelTooLarge(`displays[${i}]`, panel.width, panel.height, limit);
    if (reason) fields[`displays[${i}]`] = reason;
  });
  return Object.keys(fields).length > 0 ? fields : undefined;
}
