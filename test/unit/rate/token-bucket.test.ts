// TokenBucket on a ManualClock: rate 0 is no limit, burst, refill over time, waitMs, slowDown
// (a carrier's throttling answer) and setRate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../../src/rate/token-bucket.js';
import { ManualClock } from '../../helpers/clock.js';

/** Takes tokens until one is refused; returns how many were taken. */
function drain(b: TokenBucket, max = 1_000_000): number {
  let n = 0;
  while (n < max && b.take()) n++;
  return n;
}

test('rate 0: no limit, no wait, whatever the clock', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(0, clock);
  assert.equal(drain(b, 10_000), 10_000);
  assert.equal(b.waitMs(), 0);
  assert.equal(b.currentRate, 0);
  b.slowDown(0.5, 1_000);
  assert.equal(drain(b, 100), 100, 'slowing down "no limit" is still no limit');
});

test('a new bucket starts full: burst defaults to the rate (at least 1)', () => {
  const clock = new ManualClock();
  assert.equal(drain(new TokenBucket(10, clock)), 10);
  assert.equal(drain(new TokenBucket(0.5, clock)), 1, 'a fractional rate still allows one');
  assert.equal(drain(new TokenBucket(2.5, clock)), 2);
});

test('an explicit burst', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(10, clock, 25);
  assert.equal(drain(b), 25);
  clock.advance(10_000);
  assert.equal(drain(b), 25, 'never more than the burst saved up');
  const tight = new TokenBucket(100, clock, 1);
  assert.equal(drain(tight), 1);
  clock.advance(10);
  assert.equal(drain(tight), 1);
});

test('refill: rate tokens per second, in proportion to the time passed, capped at the burst', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(10, clock);
  assert.equal(drain(b), 10);
  assert.equal(b.take(), false);
  clock.advance(99);
  assert.equal(b.take(), false, '0.99 of a token is not a token');
  clock.advance(1);
  assert.equal(b.take(), true);
  assert.equal(b.take(), false);
  clock.advance(550);
  assert.equal(drain(b), 5, '5.5 tokens: five whole ones');
  clock.advance(50);
  assert.equal(drain(b), 1, 'the half token was kept');
  clock.advance(60_000);
  assert.equal(drain(b), 10);
});

test('over a long run the bucket admits the rate, no more', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(50, clock);
  let taken = drain(b);
  for (let ms = 0; ms < 10_000; ms++) {
    clock.advance(1);
    taken += drain(b);
  }
  assert.equal(taken, 50 + 500);
});

test('waitMs: 0 while a token is there; otherwise the time until one is, after which take succeeds', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(4, clock);
  assert.equal(b.waitMs(), 0);
  drain(b);
  assert.equal(b.waitMs(), 250);
  clock.advance(100);
  assert.equal(b.waitMs(), 150);
  clock.advance(149);
  assert.equal(b.take(), false);
  clock.advance(1);
  assert.equal(b.waitMs(), 0);
  assert.equal(b.take(), true);
  // For awkward rates the wait is rounded up, never down.
  for (const rate of [3, 7, 13, 0.3, 333]) {
    const c = new ManualClock();
    const x = new TokenBucket(rate, c, 1);
    drain(x);
    for (let i = 0; i < 50; i++) {
      const w = x.waitMs();
      assert.ok(w > 0);
      c.advance(w - 1);
      assert.equal(x.take(), false, `rate ${rate}: early by 1 ms`);
      c.advance(1);
      assert.equal(x.take(), true, `rate ${rate}: after waitMs ${w}`);
    }
  }
});

test('slowDown(0.5, d): saved tokens dropped, half the rate for d, then the full rate again', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(10, clock);
  assert.equal(b.currentRate, 10);
  b.slowDown(0.5, 2_000);
  assert.equal(b.currentRate, 5);
  assert.equal(b.take(), false, 'the full bucket was emptied');
  assert.equal(b.waitMs(), 200, 'one token per 200 ms at 5/s');
  // During the slow period: 5 a second, taken as they come.
  let taken = 0;
  for (let ms = 0; ms < 1_990; ms += 10) {
    clock.advance(10);
    taken += drain(b);
  }
  assert.equal(taken, 9, '5/s for 1.99 s');
  clock.advance(10);
  assert.equal(b.currentRate, 10, 'recovered at the end of the period');
  drain(b);
  // After it: 10 a second.
  taken = 0;
  for (let ms = 0; ms < 1_000; ms += 10) {
    clock.advance(10);
    taken += drain(b);
  }
  assert.equal(taken, 10);
});

test('slowDown drops a partly refilled token too', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(10, clock);
  drain(b);
  clock.advance(50); // half a token saved
  b.slowDown(0.5, 1_000);
  assert.equal(b.waitMs(), 200, 'a whole token at 5/s, the half token gone');
});

test('a slowdown that ended while the bucket was idle credits the slow period at the slow rate', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(10, clock);
  b.slowDown(0.5, 1_000);
  clock.advance(1_000);
  // 1 s at 5/s: 5 tokens, not the 10 of the full rate.
  assert.equal(drain(b), 5);
});

test('a second slowDown replaces the first', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(10, clock);
  b.slowDown(0.5, 10_000);
  b.slowDown(0.1, 1_000);
  assert.equal(b.currentRate, 1);
  clock.advance(1_000);
  assert.equal(b.currentRate, 10, 'the shorter, second period is the one in force');
});

test('setRate: the new rate and burst apply at once; saved tokens are capped to the new burst', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(100, clock);
  b.setRate(5);
  assert.equal(b.currentRate, 5);
  assert.equal(drain(b), 5, '100 saved tokens capped to the new burst of 5');
  clock.advance(200);
  assert.equal(drain(b), 1);
  b.setRate(50);
  assert.equal(drain(b), 0, 'raising the rate does not fill the bucket');
  clock.advance(100);
  assert.equal(drain(b), 5);
});

test('setRate to 0 and back: unlimited in between, time before the change counted at the old rate', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(2, clock);
  drain(b);
  b.setRate(0);
  assert.equal(drain(b, 500), 500);
  clock.advance(10_000);
  b.setRate(2);
  assert.equal(drain(b), 0, 'the unlimited period saved nothing up');
  clock.advance(500);
  assert.equal(drain(b), 1);
  const fromZero = new TokenBucket(0, clock);
  fromZero.setRate(3);
  assert.equal(drain(fromZero), 1, 'a bucket made unlimited starts limited with what it held (1)');
});

test('setRate keeps a slowdown in force, applied to the new rate', () => {
  const clock = new ManualClock();
  const b = new TokenBucket(10, clock);
  b.slowDown(0.5, 1_000);
  b.setRate(20);
  assert.equal(b.currentRate, 10);
  clock.advance(1_000);
  assert.equal(b.currentRate, 20);
});
