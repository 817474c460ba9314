import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EMBEDDING_DIMENSIONS, EmbeddingIndex } from '../../../server/labels/embedding-index';
import { seededPrng } from '../../helpers/prng';

const id = (n: number) => `20260101T000000${String(n).padStart(3, '0')}-0000-0000`;

/** A random unit-length vector of non-negative values, as pooled ReLU features are. */
function unitVector(seed: number): Float32Array {
  const rng = seededPrng(seed);
  const vector = Float32Array.from({ length: EMBEDDING_DIMENSIONS }, () => rng.next());
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i], 0);

describe('EmbeddingIndex', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pir-embeddings-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('finds the nearest by cosine, within the int8 rounding, and keeps them on disk across a reopen', async () => {
    const index = EmbeddingIndex.open(dataDir);
    await index.loaded();
    const vectors = Array.from({ length: 20 }, (_, i) => unitVector(i + 1));
    for (const [i, vector] of vectors.entries()) await index.add(id(i), vector);
    assert.equal(index.size, 20);
    const query = vectors[7].map((value, i) => value + (i % 2 === 0 ? 0.001 : -0.001));
    const hits = index.search(query, 3);
    assert.equal(hits[0].id, id(7));
    for (const hit of hits) {
      const exact = cosine(query, vectors[Number(hit.id.slice(15, 18))]);
      assert.ok(Math.abs(hit.similarity - exact) < 0.002, `${hit.similarity} against ${exact}`);
    }
    assert.ok(hits[0].similarity >= hits[1].similarity && hits[1].similarity >= hits[2].similarity);
    assert.deepEqual(index.search(query, 2, (hit) => hit !== id(7)), hits.slice(1));

    const reopened = EmbeddingIndex.open(dataDir);
    await reopened.loaded();
    assert.equal(reopened.size, 20);
    assert.deepEqual(reopened.search(query, 3), hits);
  });

  it('forgets a deleted image and removes its file', async () => {
    const index = EmbeddingIndex.open(dataDir);
    await index.loaded();
    assert.ok(existsSync(join(dataDir, 'embeddings', `${id(7)}.bin`)));
    await index.delete(id(7));
    assert.equal(index.has(id(7)), false);
    assert.equal(existsSync(join(dataDir, 'embeddings', `${id(7)}.bin`)), false);
    assert.notEqual(index.search(unitVector(8), 1)[0].id, id(7));
    const reopened = EmbeddingIndex.open(dataDir);
    await reopened.loaded();
    assert.equal(reopened.size, 19);
  });
});
