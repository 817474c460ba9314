import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuplicateCounts, findDuplicate } from '../../../server/similarity/duplicates';
import type { StoredImage } from '../../../server/storage/image-store';

const newest = { id: '20260101T000000000-0000-abcd', signature: { phash: 'ffff0000ffff0000', colors: '0'.repeat(24) } } as StoredImage;

test('a duplicate lies within the distance of the newest image; 0 is off; an unhashed newest never matches', () => {
  const twoBitsOff = { phash: 'ffff0000ffff0003', colors: '0'.repeat(24) };
  assert.deepEqual(findDuplicate(twoBitsOff, newest, 8), { duplicate_of: newest.id, distance: 2 });
  assert.deepEqual(findDuplicate(twoBitsOff, newest, 2), { duplicate_of: newest.id, distance: 2 });
  assert.equal(findDuplicate(twoBitsOff, newest, 1), undefined);
  assert.equal(findDuplicate(twoBitsOff, newest, 0), undefined);
  assert.equal(findDuplicate(twoBitsOff, undefined, 8), undefined);
  assert.equal(findDuplicate(twoBitsOff, { ...newest, signature: undefined }, 8), undefined);
});

test('duplicate counts add up per source, sorted by source', () => {
  const counts = new DuplicateCounts();
  counts.add('yard', 1);
  counts.add('door', 2);
  counts.add('yard', 3);
  counts.add('door', 0);
  assert.deepEqual(Object.entries(counts.read()), [['door', 2], ['yard', 4]]);
});
