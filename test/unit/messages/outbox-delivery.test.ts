// OutboxDelivery against test receivers and a manual clock, in-process: round-robin over the
// receivers with room, retries with doubling backoff while refused or unbound, TTL expiry, removal
// from the table only once accepted (or rejected for good), never an item on two receivers at once.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { silentLogger } from '../../../src/log.js';
import { OutboxDelivery } from '../../../src/messages/outbox-delivery.js';
import { Metrics } from '../../../src/metrics.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { Outbox } from '../../../src/store/outbox.js';
import { ManualClock } from '../../helpers/clock.js';
import { moRecord } from '../../helpers/outbox-records.js';
import { TestReceiver, TestReceivers } from '../../helpers/test-receivers.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const ACME = 1;

function setup(t: TestContext, o: { maxInMemory?: number } = {}) {
  const { db } = tmpDb(t);
  const clock = new ManualClock();
  const wall = { now: 1_000_000 };
  const commit = new GroupCommit(db);
  const outbox = new Outbox(db);
  const receivers = new TestReceivers();
  const metrics = new Metrics();
  const delivery = new OutboxDelivery({
    clock,
    commit,
    outbox,
    receivers,
    metrics,
    logger: silentLogger,
    name: () => 'acme',
    now: () => wall.now,
    retryMs: 1_000,
    maxRetryMs: 4_000,
    ...o,
  });
  t.after(() => delivery.stop());
  const add = async (text: string, ttlMs = 60_000) => {
    const item = await commit.run(() => outbox.add(ACME, moRecord(text), wall.now, ttlMs));
    delivery.enqueue([item]);
    return item;
  };
  /** Lets outcomes and the commits they start finish. */
  const flush = async () => {
    for (let i = 0; i < 5; i++) {
      await commit.run(() => undefined);
      await new Promise((r) => setImmediate(r));
    }
  };
  const stored = () => outbox.all().map((i) => i.body.toString());
  return { clock, wall, commit, outbox, receivers, metrics, delivery, add, flush, stored };
}

test('items go round-robin to the receivers with room, one at a time each, in order', async (t) => {
  const s = setup(t);
  const a = s.receivers.bind(ACME, new TestReceiver('a'));
  const b = s.receivers.bind(ACME, new TestReceiver('b'));
  for (const text of ['1', '2', '3', '4', '5']) await s.add(text);
  assert.deepEqual([a.texts, b.texts], [['1'], ['2']], 'one each: neither has room for more');
  a.answer('accepted');
  await s.flush();
  assert.deepEqual([a.texts, b.texts], [['1', '3'], ['2']]);
  b.answer('accepted');
  a.answer('accepted');
  await s.flush();
  b.answer('accepted');
  a.answer('accepted');
  await s.flush();
  assert.deepEqual([...a.texts, ...b.texts].sort(), ['1', '2', '3', '4', '5'], 'each offered once');
  assert.deepEqual(s.stored(), [], 'all accepted and removed');
  assert.equal(s.delivery.size, 0);
});

test('an item leaves the table only when accepted; refused, it is offered again after 1 s, 2 s, 4 s, 4 s', async (t) => {
  const s = setup(t);
  const r = s.receivers.bind(ACME, new TestReceiver('r'));
  await s.add('x');
  const offers = () => r.offers.length;
  const gaps = [1_000, 2_000, 4_000, 4_000];
  for (const gap of gaps) {
    const before = offers();
    r.answer('retry');
    await s.flush();
    assert.deepEqual(s.stored(), ['x'], 'still in the table');
    s.clock.advance(gap - 1);
    await s.flush();
    assert.equal(offers(), before, `not offered again before ${gap} ms`);
    s.clock.advance(1);
    await s.flush();
    assert.equal(offers(), before + 1, `offered again after ${gap} ms`);
  }
  assert.equal(s.outbox.all()[0]!.attempts, gaps.length, 'each retry recorded');
  r.answer('accepted');
  await s.flush();
  assert.deepEqual(s.stored(), []);
  s.clock.advance(60_000);
  await s.flush();
  assert.equal(offers(), gaps.length + 1, 'never offered after its acceptance');
});

test('while nobody is bound items wait; a receiver becoming available gets them, each once', async (t) => {
  const s = setup(t);
  await s.add('a');
  await s.add('b');
  s.clock.advance(10_000);
  await s.flush();
  assert.equal(s.delivery.size, 2);
  const r = s.receivers.bind(ACME, new TestReceiver('r', 10));
  assert.deepEqual(r.texts, ['a', 'b']);
  s.delivery.pump(ACME); // another bind, say: nothing in flight goes twice
  s.delivery.pump(ACME);
  assert.deepEqual(r.texts, ['a', 'b']);
});

test('an item whose receiver goes away is offered to another; a late acceptance of the first is not doubled', async (t) => {
  const s = setup(t);
  const first = s.receivers.bind(ACME, new TestReceiver('first'));
  await s.add('x');
  assert.deepEqual(first.texts, ['x']);
  s.receivers.unbind(ACME, first);
  first.answer('retry');
  await s.flush();
  const second = s.receivers.bind(ACME, new TestReceiver('second'));
  s.clock.advance(1_000);
  await s.flush();
  assert.deepEqual(second.texts, ['x']);
  second.answer('accepted');
  await s.flush();
  assert.deepEqual(s.stored(), []);
  s.clock.advance(60_000);
  await s.flush();
  assert.deepEqual([first.texts, second.texts], [['x'], ['x']], 'offered once to each, delivered once');
  assert.match(await s.metrics.registry.metrics(), /smppgw_outbox_delivered_total\{account="acme",kind="mo"\} 1/);
});

test('an item its TTL ran out on while waiting to retry is dropped, not offered', async (t) => {
  const s = setup(t);
  const r = s.receivers.bind(ACME, new TestReceiver('r'));
  await s.add('short', 1_500);
  await s.add('long', 60_000);
  r.answer('retry'); // short
  await s.flush();
  r.answer('accepted'); // long
  await s.flush();
  s.wall.now += 2_000;
  s.clock.advance(1_000); // short is due again, but expired
  await s.flush();
  assert.deepEqual(r.texts, ['short', 'long']);
  assert.deepEqual(s.stored(), [], 'expired and removed');
  assert.match(await s.metrics.registry.metrics(), /smppgw_outbox_expired_total\{account="acme",kind="mo"\} 1/);
});

test('an item a receiver can never take (rejected) is removed, not retried', async (t) => {
  const s = setup(t);
  const r = s.receivers.bind(ACME, new TestReceiver('r'));
  await s.add('bad');
  await s.add('good');
  r.answer('rejected');
  await s.flush();
  r.answer('accepted');
  await s.flush();
  s.clock.advance(60_000);
  await s.flush();
  assert.deepEqual(r.texts, ['bad', 'good']);
  assert.deepEqual(s.stored(), []);
});

test('paused (the store cannot record a delivery), nothing is offered; resumed, everything is, once', async (t) => {
  const s = setup(t);
  const r = s.receivers.bind(ACME, new TestReceiver('r', 10));
  s.delivery.pauseSending(true);
  await s.add('a');
  await s.add('b');
  s.delivery.pump(ACME);
  assert.deepEqual(r.texts, []);
  s.delivery.pauseSending(false);
  assert.deepEqual(r.texts, ['a', 'b']);
});

test('past maxInMemory the rest waits in the table and is paged in once the held items are gone', async (t) => {
  const s = setup(t, { maxInMemory: 2 });
  for (const text of ['1', '2', '3', '4', '5']) await s.add(text);
  assert.equal(s.delivery.size, 2);
  const r = s.receivers.bind(ACME, new TestReceiver('r', 10));
  assert.deepEqual(r.texts, ['1', '2']);
  r.answer('accepted');
  r.answer('accepted');
  await s.flush();
  assert.deepEqual(r.texts, ['1', '2', '3', '4']);
  r.answer('accepted');
  r.answer('accepted');
  await s.flush();
  r.answer('accepted');
  await s.flush();
  assert.deepEqual(r.texts, ['1', '2', '3', '4', '5'], 'each once, in order');
  assert.deepEqual(s.stored(), []);
});
