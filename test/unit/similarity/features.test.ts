import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scoreMatch, spreadOf } from '../../../server/similarity/features';
import { featuresToJson, parseFeatureSets } from '../../../server/similarity/features-json';
import { AppError } from '../../../server/errors';

test('many inliers spread over the image are the same object; huddled in one patch they are not', () => {
  const spread = Array.from({ length: 60 }, (_, i) => ({ x: (i % 10) * 60, y: Math.floor(i / 10) * 70 }));
  const huddled = Array.from({ length: 60 }, (_, i) => ({ x: 300 + (i % 10), y: 200 + Math.floor(i / 10) }));
  const wide = scoreMatch({ goodMatches: 80, inliers: 60, fewestKeypoints: 500, spread: spreadOf(spread, [480, 640]) });
  assert.deepEqual([wide.same_object, wide.confidence], [true, 'high']);
  const patch = scoreMatch({ goodMatches: 80, inliers: 60, fewestKeypoints: 500, spread: spreadOf(huddled, [480, 640]) });
  assert.deepEqual([patch.same_object, patch.confidence], [false, 'low']);
  assert.equal(patch.inliers, 60);
  assert.ok(patch.similarity_score < wide.similarity_score);
  assert.equal(scoreMatch({ goodMatches: 0, inliers: 0, fewestKeypoints: 0, spread: 0 }).match_ratio, 0);
});

test('features survive the JSON round trip; every malformed field is named', () => {
  const features = {
    keypoints: [{ x: 1.234, y: 5, size: 31, angle: 90, response: 0.001, octave: 0 }, { x: 7, y: 8, size: 31, angle: 0, response: 0, octave: 1 }],
    descriptors: new Uint8Array(64).map((_, i) => i),
    imageShape: [480, 640] as [number, number],
  };
  const json = JSON.parse(JSON.stringify(featuresToJson(features)));
  assert.deepEqual(json.descriptors_shape, [2, 32]);
  const [back] = parseFeatureSets({ f: json }, ['f']);
  assert.deepEqual([...back.descriptors], [...features.descriptors]);
  assert.deepEqual(back.imageShape, [480, 640]);
  assert.equal(back.keypoints[0].x, 1.23);
  // Python clients may send OpenCV's pt pairs.
  const [pt] = parseFeatureSets({ f: { ...json, keypoints: [{ pt: [1, 2] }, { pt: [3, 4] }] } }, ['f']);
  assert.deepEqual([pt.keypoints[1].x, pt.keypoints[1].y], [3, 4]);
  assert.throws(() => parseFeatureSets({ a: { ...json, descriptors: '!!', image_shape: [0] }, b: { ...json, keypoints: [{ x: 'a' }, {}] } }, ['a', 'b']), (err: AppError) => {
    assert.equal(err.status, 400);
    assert.deepEqual(Object.keys(err.fields!).sort(), ['a.descriptors', 'a.image_shape', 'b.keypoints[0]']);
    return true;
  });
  assert.throws(() => parseFeatureSets([], ['a']), (err: AppError) => err.fields!._ !== undefined);
});
