// Fifo: first in, first out, across the compaction of its backing array.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../../../src/util/fifo.js';

test('items come out in the order they went in, across compactions, with peek, toArray and drain', () => {
  const q = new Fifo<number>();
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  let next = 0;
  let expected = 0;
  // Interleaved pushes and shifts, long enough for the head to pass the compaction point often.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) q.push(next++);
    for (let i = 0; i < 250; i++) assert.equal(q.shift(), expected++);
    assert.equal(q.length, next - expected);
    assert.equal(q.peek(), expected);
  }
  assert.deepEqual(
    q.toArray(),
    Array.from({ length: next - expected }, (_, i) => expected + i),
  );
  assert.equal(q.length, next - expected, 'toArray leaves the items in place');
  const all = q.drain();
  assert.equal(all.length, next - expected);
  assert.equal(all[0], expected);
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
  q.push(7);
  assert.deepEqual([q.length, q.shift(), q.length], [1, 7, 0]);
});
