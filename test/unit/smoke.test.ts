import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../helpers/clock.js';
test('manual clock fires in order', () => {
  const c = new ManualClock(); const seen: number[] = [];
  c.setTimeout(() => seen.push(2), 20); c.setTimeout(() => seen.push(1), 10);
  c.advance(15); assert.deepEqual(seen, [1]); c.advance(10); assert.deepEqual(seen, [1, 2]);
});
