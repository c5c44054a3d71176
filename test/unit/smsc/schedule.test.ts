// Scheduled delivery held by the gateway (`--schedule hold`), on the carrier side in one process
// (test/helpers/carrier.ts): a message due later stays in the ledger, not in memory, and goes out
// when due; cancel_sm and replace_sm reach it there; a `forward` connector sends it at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageState } from '../../../src/smpp/message-state.js';
import { decode, encode } from '../../../src/smpp/codec.js';
import type { PduOf } from '../../../src/smpp/pdu.js';
import { carrierSide, connector } from '../../helpers/carrier.js';

const MINUTE = 60_000;

test('hold: a message due later waits in the ledger only and goes out when due; forward: at once', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('h', { schedule: 'hold' }), connector('f')]);
  c.link('h').setUp(true);
  c.link('f').setUp(true);
  const later = await c.accept(['h'], { dueAt: c.clock.wallNow() + 10 * MINUTE });
  const sooner = await c.accept(['h'], { dueAt: c.clock.wallNow() + 5 * MINUTE });
  const forwarded = await c.accept(['f'], { dueAt: c.clock.wallNow() + 5 * MINUTE });
  assert.deepEqual(c.link('f').sentIds, [forwarded]);
  assert.deepEqual([c.link('h').sentIds, c.dispatcher.heldCount], [[], 1], 'only the forwarded one is in memory');
  c.clock.advance(5 * MINUTE - 1);
  assert.deepEqual(c.link('h').sentIds, []);
  c.clock.advance(1);
  assert.deepEqual(c.link('h').sentIds, [sooner]);
  c.clock.advance(5 * MINUTE);
  assert.deepEqual(c.link('h').sentIds, [sooner, later], 'in due order, each once');
  c.clock.advance(60 * MINUTE);
  assert.deepEqual(c.link('h').sentIds, [sooner, later]);
});

test('after a restart, held messages wait until due; one due meanwhile goes at once', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('h', { schedule: 'hold' })]);
  c.link('h').setUp(true);
  const due = await c.accept(['h'], { dueAt: c.clock.wallNow() + 1_000, storeOnly: true });
  const later = await c.accept(['h'], { dueAt: c.clock.wallNow() + 10 * MINUTE, storeOnly: true });
  const now = await c.accept(['h'], { storeOnly: true });
  c.clock.advance(2_000);
  assert.equal(c.dispatcher.resume(), 3);
  c.clock.advance(0);
  assert.deepEqual(c.link('h').sentIds.sort(), [due, now].sort());
  assert.equal(c.dispatcher.heldCount, 2);
  c.clock.advance(10 * MINUTE);
  assert.equal(c.link('h').sentIds.at(-1), later);
  assert.equal(c.link('h').sentIds.length, 3);
});

test('cancel_sm ends a held message DELETED (never sent); replace_sm changes its text and its due time', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('h', { schedule: 'hold' })]);
  c.link('h').setUp(true);
  const cancelled = await c.accept(['h'], { dueAt: c.clock.wallNow() + MINUTE });
  const replaced = await c.accept(['h'], { dueAt: c.clock.wallNow() + MINUTE, text: 'old' });
  assert.deepEqual(await c.dispatcher.cancel(c.ledger.get(cancelled)!, { command: 'cancel_sm', message_id: 'x' }), { ok: true });
  // A relative schedule: 30 minutes from now.
  const request = {
    command: 'replace_sm' as const,
    message_id: 'x',
    registered_delivery: 1,
    schedule_delivery_time: '000000003000000R',
    short_message: Buffer.from('new'),
  };
  const rewrite = (pdu: Buffer) =>
    encode({ ...(decode(pdu) as PduOf<'submit_sm'>), short_message: Buffer.from('new'), schedule_delivery_time: '000000003000000R' });
  assert.deepEqual(await c.dispatcher.replace(c.ledger.get(replaced)!, request, rewrite), { ok: true });
  await c.settle();
  c.clock.advance(MINUTE);
  assert.deepEqual(c.link('h').sentIds, [], 'cancelled, and the other moved to 30 minutes');
  assert.equal(c.ledger.get(cancelled)!.state, MessageState.DELETED);
  c.clock.advance(29 * MINUTE);
  assert.deepEqual(c.link('h').sentIds, [replaced]);
  assert.equal((decode(c.link('h').wire[0]!.pdu) as PduOf<'submit_sm'>).short_message.toString(), 'new');
});

test('a held message whose validity ends before it is due ends EXPIRED, unsent', async (t) => {
  const c = carrierSide(t);
  c.dispatcher.reconcile([connector('h', { schedule: 'hold' })]);
  c.link('h').setUp(true);
  const id = await c.accept(['h'], { dueAt: c.clock.wallNow() + 10 * MINUTE, validMs: -5 * MINUTE });
  c.clock.advance(6 * MINUTE);
  assert.equal(c.dispatcher.expireQueued(), 1);
  await c.settle();
  c.clock.advance(10 * MINUTE);
  assert.deepEqual([c.ledger.get(id)!.state, c.link('h').sentIds], [MessageState.EXPIRED, []]);
});
