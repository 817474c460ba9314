import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COCO_LABELS } from '../../../server/image-labels';
import { decodeDetections, keptLabels, MAX_LABELS } from '../../../server/labels/detections';
import { labelsEnabled, ONE_GB_MEM_TOTAL } from '../../../server/labels/models-dir';

describe('decodeDetections', () => {
  it('scales boxes from the 512 square to the stored image and names the COCO class', () => {
    // A 1024 × 256 image squashed into 512 × 512: x doubles, y halves.
    const labels = decodeDetections([[100, 100, 200, 300, 0.81234, 2]], 1024, 256, 0.4);
    assert.deepEqual(labels, [{ name: 'car', score: 0.812, box: [200, 50, 200, 100] }]);
  });

  it('drops rows below the score, of no COCO class or malformed', () => {
    const rows = [[0, 0, 10, 10, 0.39, 0], [0, 0, 10, 10, 0.9, 80], [0, 0, 10, 10, 0.9, -1], [0, 0, 10, 10, 0.9, 1.5], [0, 0, 10, 10, 0.9], [0, 0, 10, 10, 0.5, 0]];
    assert.deepEqual(decodeDetections(rows, 512, 512, 0.4).map((l) => [l.name, l.score]), [['person', 0.5]]);
  });

  it('keeps the best of overlapping boxes of one class, and overlapping boxes of two classes', () => {
    const rows = [
      [0, 0, 100, 100, 0.6, 0], [5, 5, 105, 105, 0.9, 0], // one person, twice
      [5, 5, 105, 105, 0.7, 1], // a bicycle where the person is
      [300, 300, 400, 400, 0.5, 0], // another person
    ];
    const labels = decodeDetections(rows, 512, 512, 0.4);
    assert.deepEqual(labels.map((l) => [l.name, l.score, l.box[0]]), [['person', 0.9, 5], ['bicycle', 0.7, 5], ['person', 0.5, 300]]);
  });

  it('clamps boxes inside the image and keeps at most MAX_LABELS', () => {
    const [label] = decodeDetections([[-20, 500, 530, 600, 0.9, 16]], 512, 512, 0.4);
    assert.deepEqual(label.box, [0, 500, 512, 12]);
    const many = Array.from({ length: 50 }, (_, i) => [i * 10, 0, i * 10 + 5, 5, 0.9 - i / 1000, 39]);
    assert.equal(decodeDetections(many, 512, 512, 0.4).length, MAX_LABELS);
  });

  it('every class index names one of the 80 COCO labels', () => {
    assert.equal(COCO_LABELS.length, 80);
    assert.equal(new Set(COCO_LABELS).size, 80);
    assert.equal(decodeDetections([[0, 0, 1, 1, 0.9, 79]], 512, 512, 0.4)[0].name, 'toothbrush');
  });
});

describe('keptLabels', () => {
  const labels = [
    { name: 'person' as const, score: 0.9, box: [0, 0, 1, 1] as [number, number, number, number] },
    { name: 'dog' as const, score: 0.5, box: [0, 0, 1, 1] as [number, number, number, number] },
  ];
  it('keeps those at or above the score that label_keep names, all when it is empty', () => {
    assert.deepEqual(keptLabels(labels, 0.5, []).map((l) => l.name), ['person', 'dog']);
    assert.deepEqual(keptLabels(labels, 0.6, []).map((l) => l.name), ['person']);
    assert.deepEqual(keptLabels(labels, 0.4, ['dog']).map((l) => l.name), ['dog']);
  });
});

describe('labelsEnabled', () => {
  const missing = '/nonexistent-models';
  it('follows on and off; auto needs 1 GB and the models', () => {
    assert.equal(labelsEnabled({ labels: 'on' }, missing, 0), true);
    assert.equal(labelsEnabled({ labels: 'off' }, missing, 8 * ONE_GB_MEM_TOTAL), false);
    assert.equal(labelsEnabled({ labels: 'auto' }, missing, 8 * ONE_GB_MEM_TOTAL), false);
    assert.equal(labelsEnabled({ labels: 'auto' }, missing, undefined), false);
  });
});
