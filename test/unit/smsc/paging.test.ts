// Memory paging and changes to messages not yet taken by a carrier (test/helpers/carrier.ts: fake
// links, a manual clock, a real ledger): past maxHeld, messages stay in the ledger and are paged in
// oldest first, never twice; cancel_sm and replace_sm reach a message wherever it is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageState } from '../../../src/smpp/message-state.js';
import { decode, encode } from '../../../src/smpp/codec.js';
import type { PduOf } from '../../../src/smpp/pdu.js';
import { carrierSide, connector } from '../../helpers/carrier.js';

test('past maxHeld, messages wait in the ledger and are paged in oldest first as held ones leave, never twice', async (t) => {
  const c = carrierSide(t, { maxHeld: 4 });
  c.dispatcher.reconcile([connector('a', { window: 100 })]);
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(await c.accept(['a']));
  assert.equal(c.dispatcher.heldCount, 4);
  c.link('a').setUp(true);
  assert.deepEqual(c.link('a').sentIds, ids.slice(0, 4));
  for (let i = 0; i < 3; i++) c.link('a').answer({ kind: 'ok', smscId: `s${i}` });
  await c.settle();
  // Three left (one held): under half the limit, a page of up to 3 comes in, oldest first.
  assert.deepEqual(c.link('a').sentIds, ids.slice(0, 7));
  while (c.link('a').wire.length > 0) {
    c.link('a').answer({ kind: 'ok', smscId: 'x' });
    await c.settle();
  }
  assert.deepEqual(c.link('a').sentIds, ids, 'each once, in order');
  assert.deepEqual(
    ids.map((id) => c.ledger.get(id)!.state),
    ids.map(() => MessageState.ENROUTE),
  );
});

test('resume pages in what the ledger holds queued; a retry in memory is not paged in again', async (t) => {
  const c = carrierSide(t, { maxHeld: 2 });
  const ids = [];
  c.dispatcher.reconcile([connector('a')]);
  for (let i = 0; i < 3; i++) ids.push(await c.accept(['a']));
  c.link('a').setUp(true);
  assert.deepEqual(c.link('a').sentIds, ids.slice(0, 2));
  c.link('a').answer({ kind: 'status', status: 0x58 }); // throttled: retried later, still held
  c.link('a').answer({ kind: 'ok', smscId: '1' });
  await c.settle();
  assert.deepEqual(c.link('a').sentIds, [ids[0], ids[1], ids[2]], 'only the one in the ledger only is paged in');
  c.clock.advance(c.clock.nextDue()! - c.clock.now());
  assert.deepEqual(c.link('a').sentIds, [ids[0], ids[1], ids[2], ids[0]]);
});

test('cancel: a queued message ends DELETED and is never sent; one in the ledger only too; one at the carrier is cancelled there', async (t) => {
  const c = carrierSide(t, { maxHeld: 1 });
  c.dispatcher.reconcile([connector('a')]);
  const held = await c.accept(['a']);
  const stored = await c.accept(['a']);
  const cancel = (id: number) => c.dispatcher.cancel(c.ledger.get(id)!, { command: 'cancel_sm', message_id: 'theirs' });
  assert.deepEqual(await cancel(held), { ok: true });
  assert.deepEqual(await cancel(stored), { ok: true });
  const sent = await c.accept(['a']);
  c.link('a').setUp(true);
  assert.deepEqual(c.link('a').sentIds, [sent], 'the cancelled ones are not sent');
  assert.deepEqual([c.ledger.get(held)!.state, c.ledger.get(stored)!.state], [MessageState.DELETED, MessageState.DELETED]);
  assert.deepEqual(await cancel(sent), { ok: false, why: 'message already final or not yet accepted' }, 'on the wire: nothing to cancel yet');
  c.link('a').answer({ kind: 'ok', smscId: 'C0FFEE' });
  await c.settle();
  assert.deepEqual(await cancel(sent), { ok: true });
  assert.deepEqual(
    c.link('a').forwarded.map((p) => [p.command, p.message_id]),
    [['cancel_sm', 'C0FFEE']],
    'named by the carrier id',
  );
  c.link('a').forwardStatus = 0x11;
  assert.equal((await cancel(sent)).ok, false);
  c.link('a').setUp(false);
  assert.deepEqual(await cancel(sent), { ok: false, why: 'connector a is down' });
});

test('replace: a queued message is sent as replaced (held, or paged in from the ledger); one at the carrier is replaced there', async (t) => {
  const c = carrierSide(t, { maxHeld: 1 });
  c.dispatcher.reconcile([connector('a', { window: 1 })]);
  const held = await c.accept(['a']);
  const stored = await c.accept(['a']);
  const request = { command: 'replace_sm' as const, message_id: 'x', registered_delivery: 0, short_message: Buffer.from('new') };
  const rewrite = (pdu: Buffer) => encode({ ...(decode(pdu) as PduOf<'submit_sm'>), short_message: Buffer.from('new'), registered_delivery: 0 });
  assert.deepEqual(await c.dispatcher.replace(c.ledger.get(held)!, request, rewrite), { ok: true });
  assert.deepEqual(await c.dispatcher.replace(c.ledger.get(stored)!, request, rewrite), { ok: true });
  c.link('a').setUp(true);
  const text = () => (decode(c.link('a').wire[0]!.pdu) as PduOf<'submit_sm'>).short_message.toString();
  assert.equal(text(), 'new');
  c.link('a').answer({ kind: 'ok', smscId: '77' });
  await c.settle();
  assert.deepEqual(c.link('a').sentIds, [held, stored]);
  assert.equal(text(), 'new', 'paged in as replaced');
  assert.equal(c.ledger.get(held)!.registeredDelivery, 0);
  assert.deepEqual(await c.dispatcher.replace(c.ledger.get(held)!, request, rewrite), { ok: true });
  assert.deepEqual(
    c.link('a').forwarded.map((p) => [p.command, p.message_id]),
    [['replace_sm', '77']],
  );
  const queued = await c.accept(['a']);
  await assert.rejects(
    c.dispatcher.replace(c.ledger.get(queued)!, request, () => {
      throw new Error('too long');
    }),
    { message: 'too long' },
    'a refused rewrite',
  );
  assert.equal(c.ledger.get(queued)!.pdu.includes('hi'), true, 'left as it was');
});

test("a message paged in from the ledger takes its lane by its flag up to its account grant; the gauge sees each lane's oldest", async (t) => {
  const c = carrierSide(t, { maxPriority: (account) => (account === 2 ? 1 : 0) });
  c.dispatcher.reconcile([connector('a')]);
  const bulk = await c.accept(['a'], { accountId: 1, flag: 3, storeOnly: true });
  c.clock.advance(5_000);
  const granted = await c.accept(['a'], { accountId: 2, flag: 2, storeOnly: true });
  const plain = await c.accept(['a'], { accountId: 2, flag: 0, storeOnly: true });
  assert.equal(c.dispatcher.resume(), 3);
  const lane = (id: number) => c.link('a').queue.find((m) => m.id === id)?.priority;
  assert.deepEqual([lane(bulk), lane(granted), lane(plain)], [false, true, false]);
  c.clock.advance(1_000);
  assert.deepEqual(c.dispatcher.queueAges(), { a: { normal: 6, priority: 1 } });
});
