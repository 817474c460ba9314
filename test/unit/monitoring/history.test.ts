import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History } from '../../../server/monitoring/history';

describe('History', () => {
  it('keeps samples oldest first until it is full', () => {
    const history = new History(['t', 'v'] as const, 4);
    assert.deepEqual(history.toColumns(), { t: [], v: [] });
    history.push({ t: 1, v: 10 });
    history.push({ t: 2, v: 20 });
    assert.equal(history.length, 2);
    assert.deepEqual(history.toColumns(), { t: [1, 2], v: [10, 20] });
  });

  it('drops the oldest samples once full, holding exactly its capacity', () => {
    const history = new History(['t', 'v'] as const, 3);
    for (let i = 1; i <= 7; i++) history.push({ t: i, v: i * 10 });
    assert.equal(history.length, 3);
    assert.deepEqual(history.toColumns(), { t: [5, 6, 7], v: [50, 60, 70] });
  });

  it('turns missing and null values into null, so the columns survive JSON', () => {
    const history = new History(['t', 'v'] as const, 2);
    history.push({ t: 1, v: null });
    history.push({ t: 2 });
    assert.equal(JSON.stringify(history.toColumns()), '{"t":[1,2],"v":[null,null]}');
  });

  it('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new History(['t'] as const, 0), RangeError);
    assert.throws(() => new History(['t'] as const, 1.5), RangeError);
  });
});
