// The carrier side in one process (test/helpers/carrier.ts): fake links at the CarrierLink
// interface, a manual clock, a real ledger. Choice and failover, what each outcome means, retries
// with backoff, reconciling links with the connector table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageState } from '../../../src/smpp/message-state.js';
import { ESME_RSYSERR, ESME_RTHROTTLED, Status } from '../../../src/smpp/defs.js';
import { carrierSide, connector } from '../../helpers/carrier.js';

const ESME_RINVDSTADR = Status.ESME_RINVDSTADR;

test('a message goes to the first of its connectors that is up, and waits on the first when none is', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a'), connector('b')]);
  c.link('b').setUp(true);
  const first = await c.accept(['a', 'b']);
  assert.deepEqual(c.link('b').sentIds, [first], 'a is down: b takes it');
  c.link('b').setUp(false);
  const second = await c.accept(['a', 'b']);
  assert.deepEqual(
    c.link('a').queue.map((m) => m.id),
    [second],
    'none up: it waits on its first connector',
  );
  c.link('a').setUp(true);
  assert.deepEqual(c.link('a').sentIds, [second]);
});

test('failover: messages queued on a link that goes down move to the next connector of their route that is up', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a', { window: 1 }), connector('b')]);
  c.link('a').setUp(true);
  const ids = [await c.accept(['a', 'b']), await c.accept(['a', 'b']), await c.accept(['a', 'b'])];
  assert.deepEqual(c.link('a').sentIds, [ids[0]]);
  c.link('b').setUp(true);
  c.link('a').setUp(false);
  assert.deepEqual(c.link('b').sentIds, [ids[1], ids[2]]);
});

test('a link coming up gathers the messages waiting on down links whose route names it', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a'), connector('b')]);
  const both = await c.accept(['a', 'b']);
  const onlyA = await c.accept(['a']);
  c.link('b').setUp(true);
  assert.deepEqual(c.link('b').sentIds, [both]);
  assert.deepEqual(
    c.link('a').queue.map((m) => m.id),
    [onlyA],
  );
});

test('ok: the carrier id is recorded and the message leaves memory', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a')]);
  c.link('a').setUp(true);
  const id = await c.accept(['a']);
  c.link('a').answer({ kind: 'ok', smscId: 'AB12' });
  await c.settle();
  const row = c.ledger.get(id)!;
  assert.deepEqual([row.state, row.connector, row.smscIdRaw], [MessageState.ENROUTE, 'a', 'AB12']);
  assert.equal(c.dispatcher.heldCount, 0);
});

test('permanent refusal: REJECTD with the status; no retry', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a')]);
  c.link('a').setUp(true);
  const id = await c.accept(['a']);
  c.link('a').answer({ kind: 'status', status: ESME_RINVDSTADR });
  await c.settle();
  const row = c.ledger.get(id)!;
  assert.deepEqual([row.state, row.error], [MessageState.REJECTED, ESME_RINVDSTADR]);
  assert.equal(c.link('a').sentIds.length, 1);
});

test('throttled: the link slows down and the message is retried after its backoff on the same link', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a')]);
  c.link('a').setUp(true);
  const id = await c.accept(['a']);
  c.link('a').answer({ kind: 'status', status: ESME_RTHROTTLED });
  assert.equal(c.link('a').slowedDown, 1);
  assert.equal(c.link('a').sentIds.length, 1, 'not again before its backoff');
  const retryAt = c.clock.nextDue()!;
  c.clock.advance(retryAt - c.clock.now() - 1);
  assert.equal(c.link('a').sentIds.length, 1);
  c.clock.advance(1);
  assert.deepEqual(c.link('a').sentIds, [id, id]);
  await c.settle();
  assert.equal(c.ledger.get(id)!.state, MessageState.QUEUED, 'still queued, recorded for retry');
});

test('backoff doubles with each attempt, and the attempts are bounded (UNDELIV at the limit)', async (t) => {
  const c = carrierSide(t, { policy: { maxAttempts: 3, baseDelayMs: 1_000 } });
  c.dispatcher.reconcile([connector('a')]);
  c.link('a').setUp(true);
  const id = await c.accept(['a']);
  const delays: number[] = [];
  for (let i = 0; i < 2; i++) {
    c.link('a').answer({ kind: 'status', status: ESME_RSYSERR });
    delays.push(c.clock.nextDue()! - c.clock.now());
    c.clock.advance(delays[i]!);
  }
  assert.deepEqual(delays, [1_000, 2_000]);
  c.link('a').answer({ kind: 'status', status: ESME_RSYSERR });
  await c.settle();
  assert.deepEqual([c.ledger.get(id)!.state, c.link('a').sentIds.length], [MessageState.UNDELIVERABLE, 3]);
});

test('a temporary error fails over at once to another connector of the route that is up', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a'), connector('b')]);
  c.link('a').setUp(true);
  c.link('b').setUp(true);
  const id = await c.accept(['a', 'b']);
  c.link('a').answer({ kind: 'status', status: ESME_RSYSERR });
  assert.deepEqual(c.link('b').sentIds, [id]);
});

test('timeouts in a row rebind a reconnect connector; resends after no answer are bounded', async (t) => {
  const c = carrierSide(t, { policy: { timeoutsBeforeRebind: 3, maxResends: 2 } });
  c.dispatcher.reconcile([connector('a')]);
  c.link('a').setUp(true);
  const id = await c.accept(['a']);
  for (let i = 0; i < 2; i++) {
    c.link('a').answer({ kind: 'timeout' });
    c.clock.advance(c.clock.nextDue()! - c.clock.now());
  }
  assert.equal(c.link('a').rebinds, 0);
  c.link('a').answer({ kind: 'timeout' });
  assert.equal(c.link('a').rebinds, 1, 'the third timeout in a row rebinds');
  await c.settle();
  assert.deepEqual([c.ledger.get(id)!.state, c.link('a').sentIds.length], [MessageState.UNDELIVERABLE, 3], 'sent twice more at most');
});

test('an answer resets the timeouts in a row; a wait connector never rebinds nor resends', async (t) => {
  const c = carrierSide(t, { policy: { timeoutsBeforeRebind: 2 } });
  c.dispatcher.reconcile([connector('a'), connector('w', { onTimeout: 'wait' })]);
  c.link('a').setUp(true);
  c.link('w').setUp(true);
  await c.accept(['a']);
  c.link('a').answer({ kind: 'timeout' });
  c.clock.advance(c.clock.nextDue()! - c.clock.now());
  c.link('a').answer({ kind: 'ok', smscId: '1' });
  await c.accept(['a']);
  c.link('a').answer({ kind: 'timeout' });
  assert.equal(c.link('a').rebinds, 0);
  const id = await c.accept(['w']);
  const msg = c.link('w').wire[0]!;
  c.link('w').answer({ kind: 'timeout', waiting: true }, msg);
  c.link('w').answer({ kind: 'timeout', waiting: true }, msg);
  assert.deepEqual([c.link('w').rebinds, c.link('w').sentIds.length, c.clock.pendingTimers], [0, 1, 1]);
  c.link('w').answer({ kind: 'unanswered' }, msg);
  await c.settle();
  const row = c.ledger.get(id)!;
  assert.deepEqual([row.state, row.smscIdRaw], [MessageState.ENROUTE, null], 'kept as sent without a carrier id');
});

test('reconcile starts, updates in place, rebinds on changed bind settings, and stops removed links', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a'), connector('b'), connector('c')]);
  const [a, b, cc] = [c.link('a'), c.link('b'), c.link('c')];
  assert.deepEqual([a.started, b.started, cc.started], [1, 1, 1]);
  const queued = await c.accept(['b']);
  c.dispatcher.reconcile([connector('a', { tps: 50 }), connector('b', { port: 2 }), connector('c', { enabled: false })]);
  assert.deepEqual(
    a.updates.map((u) => u.tps),
    [50],
    'a rate change is taken in place',
  );
  assert.equal(a.stopped, false);
  assert.equal(b.stopped, true, 'a new port needs a new bind');
  assert.notEqual(c.link('b'), b);
  assert.deepEqual(
    c.link('b').queue.map((m) => m.id),
    [queued],
    'its queue moved to the new link',
  );
  assert.equal(cc.stopped, true);
  assert.deepEqual([...c.dispatcher.links.keys()].sort(), ['a', 'b']);
  b.setUp(false); // a replaced link's late report must not touch its successor
  assert.deepEqual(
    c.link('b').queue.map((m) => m.id),
    [queued],
  );
});

test('a message whose connectors all stopped waits, and goes out when the table names one again', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a')]);
  c.dispatcher.reconcile([]);
  const id = await c.accept(['a']);
  assert.equal(c.dispatcher.queuedTotal, 1);
  c.dispatcher.reconcile([connector('a')]);
  c.link('a').setUp(true);
  assert.deepEqual(c.link('a').sentIds, [id]);
});

test('a queued message past its validity ends EXPIRED; one on the wire is left to its answer', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('a', { window: 1 })]);
  c.link('a').setUp(true);
  const onWire = await c.accept(['a'], { validMs: 1_000 });
  const waiting = await c.accept(['a'], { validMs: 1_000 });
  c.clock.advance(1_000);
  assert.equal(c.dispatcher.expireQueued(), 1);
  await c.settle();
  assert.deepEqual([c.ledger.get(waiting)!.state, c.ledger.get(onWire)!.state], [MessageState.EXPIRED, MessageState.QUEUED]);
  c.link('a').answer({ kind: 'ok', smscId: '9' });
  assert.deepEqual(c.link('a').sentIds, [onWire], 'the expired one is not sent');
});
