/** The shapes local-feature matching exchanges between the daemon, its worker and clients. */

/** An 8-bit grey image, row-major, as the worker takes it. */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One ORB keypoint, in the pixels of the reduced image. */
export interface KeyPoint {
  x: number;
  y: number;
  size: number;
  angle: number;
  response: number;
  octave: number;
}

/** The ORB keypoints of an image and their 32-byte binary descriptors, row by row. */
export interface Features {
  keypoints: KeyPoint[];
  /** keypoints.length x 32 bytes. */
  descriptors: Uint8Array;
  /** [height, width] of the image the keypoints were found in. */
  imageShape: [number, number];
}

/** What matching two feature sets found. */
export interface MatchCounts {
  /** Matches that pass Lowe's ratio test. */
  goodMatches: number;
  /** Good matches consistent with one RANSAC homography. */
  inliers: number;
  /** Keypoints of the poorer image: the most matches there could be. */
  fewestKeypoints: number;
  /**
   * How far the inliers spread over the second image: their standard deviation from their centre
   * over the image's diagonal. A repeated pattern (a checkerboard, tiles) can give an unrelated
   * pair many inliers in one small patch; the same object spreads them (0.1 and more).
   */
  spread: number;
}

/** The comparison as the API reports it. */
export interface Comparison {
  similarity_score: number;
  good_matches: number;
  inliers: number;
  match_ratio: number;
  confidence: 'high' | 'medium' | 'low';
  same_object: boolean;
}

/** Most keypoints kept per image (ORB's nfeatures). */
export const MAX_KEYPOINTS = 500;
/** Longest side an image is reduced to before ORB. */
export const FEATURE_IMAGE_SIZE = 1024;
/** Bytes of one ORB descriptor. */
export const DESCRIPTOR_BYTES = 32;
/**
 * Inliers from which two images show the same object. Unrelated generated scenes reach at most
 * about 10 by chance, changed views of one scene 100 or more (npm run bench:similarity).
 */
export const SAME_OBJECT_INLIERS = 20;
/** Least inlier spread (see MatchCounts.spread) for the same object; unrelated pairs reached about 0.02. */
export const SAME_OBJECT_SPREAD = 0.05;
const HIGH_CONFIDENCE_INLIERS = 50;

/** Turns match counts into the API's score: inliers against a quarter of the keypoints, floored at 40. */
export function scoreMatch(counts: MatchCounts): Comparison {
  const { goodMatches, inliers, fewestKeypoints, spread } = counts;
  // Inliers huddled in one patch count for little: they are likely a repeated pattern.
  const credible = spread >= SAME_OBJECT_SPREAD ? inliers : Math.min(inliers, SAME_OBJECT_INLIERS - 1);
  const expected = Math.max(40, fewestKeypoints / 4);
  return {
    similarity_score: Math.min(100, Math.round((100 * credible) / expected)),
    good_matches: goodMatches,
    inliers,
    match_ratio: fewestKeypoints > 0 ? Math.round((goodMatches / fewestKeypoints) * 1000) / 1000 : 0,
    confidence: credible >= HIGH_CONFIDENCE_INLIERS ? 'high' : credible >= SAME_OBJECT_INLIERS ? 'medium' : 'low',
    same_object: credible >= SAME_OBJECT_INLIERS,
  };
}

/** The spread of points over an image of `shape` [height, width] (or their own extent when unknown). */
export function spreadOf(points: ReadonlyArray<{ x: number; y: number }>, shape: readonly [number, number]): number {
  if (points.length < 2) return 0;
  let sx = 0; let sy = 0;
  for (const p of points) { sx += p.x; sy += p.y; }
  const cx = sx / points.length;
  const cy = sy / points.length;
  let variance = 0;
  let maxX = 0; let maxY = 0;
  for (const p of points) {
    variance += (p.x - cx) ** 2 + (p.y - cy) ** 2;
    maxX = Math.max(maxX, p.x);
    maxY = Math.max(maxY, p.y);
  }
  const [height, width] = shape[0] > 0 && shape[1] > 0 ? shape : [maxY, maxX];
  const diagonal = Math.hypot(width, height);
  return diagonal > 0 ? Math.sqrt(variance / points.length) / diagonal : 0;
}
