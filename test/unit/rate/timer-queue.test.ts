// TimerQueue on a ManualClock: jobs run by due time, then insertion order, from a single clock
// timer armed for the earliest; drain runs everything, clear drops everything, a throwing job is
// reported and the others still run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerQueue } from '../../../src/rate/timer-queue.js';
import { seededRandom } from '../../helpers/random-pdu.js';
import { ManualClock } from '../../helpers/clock.js';

function setup() {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const q = new TimerQueue(clock, (e) => errors.push(e));
  const ran: string[] = [];
  const job = (name: string) => () => {
    ran.push(name);
  };
  return { clock, q, errors, ran, job };
}

test('jobs run when due, not before, in due-time order', () => {
  const { clock, q, ran, job } = setup();
  q.add(300, job('c'));
  q.add(100, job('a'));
  q.add(200, job('b'));
  assert.equal(q.size, 3);
  clock.advance(99);
  assert.deepEqual(ran, []);
  clock.advance(1);
  assert.deepEqual(ran, ['a']);
  clock.advance(150);
  assert.deepEqual(ran, ['a', 'b']);
  assert.equal(q.size, 1);
  clock.advance(1_000);
  assert.deepEqual(ran, ['a', 'b', 'c']);
  assert.equal(q.size, 0);
});

test('jobs due at the same time run in insertion order', () => {
  const { clock, q, ran, job } = setup();
  for (const name of ['1', '2', '3', '4', '5', '6', '7', '8']) q.add(50, job(name));
  q.add(10, job('early'));
  clock.advance(50);
  assert.deepEqual(ran, ['early', '1', '2', '3', '4', '5', '6', '7', '8']);
});

test('one clock timer at a time, re-armed for the earliest job', () => {
  const { clock, q, job } = setup();
  assert.equal(clock.pendingTimers, 0);
  q.add(500, job('a'));
  assert.equal(clock.pendingTimers, 1);
  assert.equal(clock.nextDue(), 500);
  q.add(700, job('b'));
  assert.equal(clock.pendingTimers, 1, 'a later job does not add a timer');
  assert.equal(clock.nextDue(), 500);
  q.add(100, job('c'));
  assert.equal(clock.pendingTimers, 1, 'an earlier job replaces the timer');
  assert.equal(clock.nextDue(), 100);
  clock.advance(100);
  assert.equal(clock.pendingTimers, 1);
  assert.equal(clock.nextDue(), 500);
  clock.advance(400);
  assert.equal(clock.nextDue(), 700);
  clock.advance(200);
  assert.equal(clock.pendingTimers, 0, 'no timer once the queue is empty');
  for (let i = 0; i < 100; i++) q.add(1_000 - i, () => {});
  assert.equal(clock.pendingTimers, 1);
});

test('a zero or negative delay runs at the next clock tick, not synchronously', () => {
  const { clock, q, ran, job } = setup();
  q.add(0, job('zero'));
  q.add(-50, job('negative'));
  assert.deepEqual(ran, []);
  clock.advance(0);
  assert.deepEqual(ran, ['zero', 'negative'], 'both due now: insertion order');
});

test('delays are from the time of add', () => {
  const { clock, q, ran, job } = setup();
  clock.advance(1_000);
  q.add(100, job('a'));
  clock.advance(99);
  assert.deepEqual(ran, []);
  clock.advance(1);
  assert.deepEqual(ran, ['a']);
});

test('a job may add jobs: due ones run in the same pass, later ones get the timer', () => {
  const { clock, q, ran, job } = setup();
  q.add(100, () => {
    ran.push('parent');
    q.add(0, job('child-now'));
    q.add(50, job('child-later'));
  });
  q.add(100, job('sibling'));
  clock.advance(100);
  assert.deepEqual(ran, ['parent', 'sibling', 'child-now']);
  assert.equal(clock.pendingTimers, 1);
  assert.equal(clock.nextDue(), 150);
  clock.advance(50);
  assert.deepEqual(ran, ['parent', 'sibling', 'child-now', 'child-later']);
  assert.equal(clock.pendingTimers, 0);
});

test('a throwing job is reported to onError and the others still run', () => {
  const { clock, q, errors, ran, job } = setup();
  const boom = new Error('boom');
  q.add(10, job('before'));
  q.add(10, () => {
    throw boom;
  });
  q.add(10, job('after'));
  q.add(20, job('later'));
  clock.advance(10);
  assert.deepEqual(errors, [boom]);
  assert.deepEqual(ran, ['before', 'after']);
  assert.equal(clock.pendingTimers, 1, 'still armed for the later job');
  clock.advance(10);
  assert.deepEqual(ran, ['before', 'after', 'later']);
});

test('without onError a throwing job is swallowed and the queue goes on', () => {
  const clock = new ManualClock();
  const q = new TimerQueue(clock);
  const ran: number[] = [];
  q.add(1, () => {
    throw new Error('ignored');
  });
  q.add(1, () => ran.push(1));
  assert.doesNotThrow(() => clock.advance(1));
  assert.deepEqual(ran, [1]);
});

test('drain runs every job now, due or not, in order, and stops the timer', () => {
  const { clock, q, errors, ran, job } = setup();
  q.add(5_000, job('c'));
  q.add(10, job('a'));
  q.add(5_000, () => {
    throw new Error('x');
  });
  q.add(5_000, job('d'));
  q.add(1_000, job('b'));
  q.drain();
  assert.deepEqual(ran, ['a', 'b', 'c', 'd']);
  assert.equal(errors.length, 1);
  assert.equal(q.size, 0);
  assert.equal(clock.pendingTimers, 0);
  clock.advance(10_000);
  assert.deepEqual(ran, ['a', 'b', 'c', 'd'], 'nothing runs twice');
});

test('clear drops every job without running it, and stops the timer; the queue is usable after', () => {
  const { clock, q, ran, job } = setup();
  q.add(10, job('a'));
  q.add(20, job('b'));
  q.clear();
  assert.equal(q.size, 0);
  assert.equal(clock.pendingTimers, 0);
  clock.advance(100);
  assert.deepEqual(ran, []);
  q.add(10, job('c'));
  assert.equal(clock.pendingTimers, 1);
  clock.advance(10);
  assert.deepEqual(ran, ['c']);
});

test('a job added after drain gets a timer again', () => {
  const { clock, q, ran, job } = setup();
  q.add(10, job('a'));
  q.drain();
  q.add(30, job('b'));
  assert.equal(clock.pendingTimers, 1);
  clock.advance(30);
  assert.deepEqual(ran, ['a', 'b']);
});

test('many random jobs run in (due time, insertion) order with one timer throughout', () => {
  const { clock, q, ran } = setup();
  const rnd = seededRandom(99);
  const expected: Array<{ at: number; seq: number; name: string }> = [];
  for (let i = 0; i < 500; i++) {
    const ms = Math.floor(rnd() * 200);
    const name = `j${i}`;
    expected.push({ at: ms, seq: i, name });
    q.add(ms, () => {
      ran.push(name);
    });
    assert.ok(clock.pendingTimers <= 1);
  }
  for (let t = 0; t < 200; t += 7) {
    clock.advance(7);
    assert.ok(clock.pendingTimers <= 1);
    assert.equal(q.size, expected.filter((e) => e.at > clock.now()).length);
  }
  expected.sort((a, b) => a.at - b.at || a.seq - b.seq);
  assert.deepEqual(
    ran,
    expected.map((e) => e.name),
  );
});
