import { DESCRIPTOR_BYTES, MAX_KEYPOINTS, SAME_OBJECT_INLIERS, SAME_OBJECT_SPREAD, spreadOf, type Features, type GreyImage, type KeyPoint, type MatchCounts } from './features';
import { serveJobs } from '../workers/worker-process';

/**
 * The worker process that holds OpenCV (WebAssembly, about 85 MB of RSS once loaded). It is
 * forked on the first comparison and ended when idle (feature-matcher.ts), so the daemon pays
 * for OpenCV only while it compares.
 */

/** A request from the daemon; every answer echoes `id`. */
export type WorkerRequest =
  | { id: number; op: 'extract'; image: GreyImage }
  | { id: number; op: 'match'; a: Features; b: Features }
  | { id: number; op: 'compare'; a: GreyImage; b: GreyImage };


// OpenCV's embind API is untyped at this boundary; its objects are freed by hand with delete().
type Cv = any;
let cvReady: Promise<{ cv: Cv }> | undefined;

/**
 * Loads OpenCV once. The module is returned in a box: it is a thenable whose then() hands back
 * itself, so resolving a promise with it directly would loop for ever.
 */
function loadCv(): Promise<{ cv: Cv }> {
  cvReady ??= new Promise((resolve) => {
    const loaded = require('@techstark/opencv-js') as Cv;
    if (loaded.Mat) resolve({ cv: loaded });
    else loaded.onRuntimeInitialized = () => resolve({ cv: loaded });
  });
  return cvReady;
}

function extract(cv: Cv, image: GreyImage, mirrored = false): Features {
  const mat = new cv.Mat(image.height, image.width, cv.CV_8UC1);
  const orb = new cv.ORB(MAX_KEYPOINTS);
  const keypoints = new cv.KeyPointVector();
  const descriptors = new cv.Mat();
  const mask = new cv.Mat();
  try {
    mat.data.set(image.data);
    if (mirrored) cv.flip(mat, mat, 1);
    orb.detectAndCompute(mat, mask, keypoints, descriptors);
    const points = [];
    for (let i = 0; i < keypoints.size(); i++) {
      const k = keypoints.get(i);
      points.push({ x: k.pt.x, y: k.pt.y, size: k.size, angle: k.angle, response: k.response, octave: k.octave });
    }
    return { keypoints: points, descriptors: new Uint8Array(descriptors.data), imageShape: [image.height, image.width] };
  } finally {
    for (const object of [mat, orb, keypoints, descriptors, mask]) object.delete();
  }
}

/** Ratio-test matches of a's descriptors in b's, then the inliers of a RANSAC homography over them. */
function match(cv: Cv, a: Features, b: Features): MatchCounts {
  const fewestKeypoints = Math.min(a.keypoints.length, b.keypoints.length);
  if (fewestKeypoints < 2) return { goodMatches: 0, inliers: 0, fewestKeypoints, spread: 0 };
  const da = cv.matFromArray(a.keypoints.length, DESCRIPTOR_BYTES, cv.CV_8U, Array.from(a.descriptors));
  const db = cv.matFromArray(b.keypoints.length, DESCRIPTOR_BYTES, cv.CV_8U, Array.from(b.descriptors));
  const matcher = new cv.BFMatcher(cv.NORM_HAMMING, false);
  const knn = new cv.DMatchVectorVector();
  const good: Array<[number, number]> = [];
  try {
    matcher.knnMatch(da, db, knn, 2);
    for (let i = 0; i < knn.size(); i++) {
      const pair = knn.get(i);
      // Lowe's ratio test: keep a match only when clearly better than the runner-up.
      if (pair.size() === 2 && pair.get(0).distance < 0.75 * pair.get(1).distance) good.push([pair.get(0).queryIdx, pair.get(0).trainIdx]);
    }
  } finally {
    for (const object of [da, db, matcher, knn]) object.delete();
  }
  const inliers = good.length >= 4 ? homographyInliers(cv, a, b, good) : [];
  return { goodMatches: good.length, inliers: inliers.length, fewestKeypoints, spread: spreadOf(inliers, b.imageShape) };
}

/** The keypoints of b that a RANSAC homography from a to b keeps. */
function homographyInliers(cv: Cv, a: Features, b: Features, good: Array<[number, number]>): KeyPoint[] {
  const src = cv.matFromArray(good.length, 1, cv.CV_32FC2, good.flatMap(([q]) => [a.keypoints[q].x, a.keypoints[q].y]));
  const dst = cv.matFromArray(good.length, 1, cv.CV_32FC2, good.flatMap(([, t]) => [b.keypoints[t].x, b.keypoints[t].y]));
  const mask = new cv.Mat();
  let homography: Cv;
  try {
    homography = cv.findHomography(src, dst, cv.RANSAC, 5, mask);
    const inliers: KeyPoint[] = [];
    for (let i = 0; i < mask.rows; i++) if (mask.data[i]) inliers.push(b.keypoints[good[i][1]]);
    return inliers;
  } finally {
    homography?.delete();
    for (const object of [src, dst, mask]) object.delete();
  }
}

/** Two images: as they are, then with b mirrored when that did not match (ORB is not mirror-invariant). */
function compare(cv: Cv, a: GreyImage, b: GreyImage): MatchCounts {
  const features = extract(cv, a);
  const straight = match(cv, features, extract(cv, b));
  if (straight.inliers >= SAME_OBJECT_INLIERS && straight.spread >= SAME_OBJECT_SPREAD) return straight;
  const mirrored = match(cv, features, extract(cv, b, true));
  return mirrored.inliers > straight.inliers ? mirrored : straight;
}

async function handle(request: WorkerRequest): Promise<unknown> {
  const { cv } = await loadCv();
  switch (request.op) {
    case 'extract': return extract(cv, request.image);
    case 'match': return match(cv, request.a, request.b);
    case 'compare': return compare(cv, request.a, request.b);
  }
}

serveJobs(handle);
