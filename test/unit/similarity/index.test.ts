import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimilarityIndex } from '../../../server/similarity/index';
import { hammingDistance } from '../../../server/similarity/signature';
import { seededPrng } from '../../helpers/prng';

function randomHash(next: () => number): string {
  let hex = '';
  for (let i = 0; i < 16; i++) hex += Math.floor(next() * 16).toString(16);
  return hex;
}

test('search returns what a brute-force scan returns, nearest first, ties newest first', () => {
  const rng = seededPrng(7);
  const index = new SimilarityIndex();
  const all: Array<{ id: string; phash: string }> = [];
  for (let i = 0; i < 3000; i++) {
    const entry = { id: `id-${String(i).padStart(5, '0')}`, phash: randomHash(rng.next) };
    all.push(entry);
    index.add(entry.id, entry.phash);
  }
  // Remove a third, so that slots have been moved.
  for (let i = 0; i < 3000; i += 3) assert.ok(index.remove(all[i].id));
  const live = all.filter((_, i) => i % 3 !== 0);
  assert.equal(index.size, live.length);
  for (let q = 0; q < 20; q++) {
    const query = randomHash(rng.next);
    const limit = rng.int(1, 40);
    const maxDistance = rng.int(20, 64);
    const expected = live
      .map((entry) => ({ id: entry.id, distance: hammingDistance(query, entry.phash) }))
      .filter((hit) => hit.distance <= maxDistance)
      .sort((a, b) => a.distance - b.distance || (a.id < b.id ? 1 : -1))
      .slice(0, limit);
    assert.deepEqual(index.search({ phash: query, limit, maxDistance }), expected);
  }
});

test('accept filters hits and the index stays within 32 bytes per image', () => {
  const index = new SimilarityIndex();
  for (let i = 0; i < 10_000; i++) index.add(`img-${i}`, i.toString(16).padStart(16, '0'));
  const hits = index.search({ phash: '0000000000000000', limit: 5, accept: (id) => id.endsWith('7') });
  assert.ok(hits.length === 5 && hits.every((hit) => hit.id.endsWith('7')));
  assert.ok(index.bytes / index.size <= 32, `${index.bytes / index.size} bytes per image`);
  assert.equal(index.remove('nope'), false);
});
