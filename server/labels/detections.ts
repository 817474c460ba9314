import { COCO_LABELS, type ImageLabel } from '../image-labels';

/** The detector's input: a 512×512 RGB square, the image squashed into it (no crop, no padding). */
export const DETECTOR_INPUT_SIZE = 512;

/** Boxes of one class overlapping more than this (intersection over union) are one object. */
const SAME_OBJECT_IOU = 0.4;

/** Most labels kept per image: enough for a crowd, few enough for an MQTT event. */
export const MAX_LABELS = 20;

/**
 * The detector's raw output as labels: each row is [x1, y1, x2, y2, score, class] in the input
 * square's pixels (CenterNet's `tower_0/detections`, 100 rows best first). Rows below `minScore`,
 * or naming no COCO class, are dropped; of boxes of one class that overlap, the best is kept (a
 * greedy non-maximum suppression, as the detector's own runtime does); boxes are scaled to the
 * stored image's `width` × `height` and clamped inside it.
 */
export function decodeDetections(rows: readonly (readonly number[])[], width: number, height: number, minScore: number): ImageLabel[] {
  const candidates = rows
    .filter((row) => row.length === 6 && row[4] >= minScore && Number.isInteger(row[5]) && row[5] >= 0 && row[5] < COCO_LABELS.length)
    .sort((a, b) => b[4] - a[4]);
  const kept: Array<readonly number[]> = [];
  for (const row of candidates) {
    if (kept.length >= MAX_LABELS) break;
    if (kept.some((other) => other[5] === row[5] && iou(other, row) > SAME_OBJECT_IOU)) continue;
    kept.push(row);
  }
  const sx = width / DETECTOR_INPUT_SIZE;
  const sy = height / DETECTOR_INPUT_SIZE;
  return kept.map(([x1, y1, x2, y2, score, cls]) => {
    const left = clamp(Math.round(x1 * sx), 0, width);
    const top = clamp(Math.round(y1 * sy), 0, height);
    const right = clamp(Math.round(x2 * sx), left, width);
    const bottom = clamp(Math.round(y2 * sy), top, height);
    return { name: COCO_LABELS[cls], score: Math.round(score * 1000) / 1000, box: [left, top, right - left, bottom - top] };
  });
}

/** Intersection over union of two [x1, y1, x2, y2, ...] boxes. */
function iou(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** The labels a setting keeps: those at or above `minScore` whose name `keep` lists (all when empty). */
export function keptLabels(labels: readonly ImageLabel[], minScore: number, keep: readonly string[]): ImageLabel[] {
  return labels.filter((label) => label.score >= minScore && (keep.length === 0 || keep.includes(label.name)));
}
