// Ledger: the MT message rows and their life (queued → sent → receipt/final), carrier-id lookup
// (newest wins), parked receipts, queued pages for restart and memory, prune, replace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../../src/smpp/codec.js';
import { Ledger, MessageState, type NewMessage } from '../../../src/store/ledger.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const PDU = encode({
  command: 'submit_sm',
  sequence_number: 9,
  source_addr: 'SHOP',
  destination_addr: '447700900001',
  registered_delivery: 1,
  short_message: Buffer.from('hello'),
});

function msg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    accountId: 1,
    sourceAddr: 'SHOP',
    destAddr: '447700900001',
    registeredDelivery: 1,
    pdu: PDU,
    routeId: 3,
    connectors: ['c1', 'c2'],
    expiresAt: 99_000,
    now: 1_000,
    ...over,
  };
}

function setup(t: Parameters<typeof tmpDb>[0]) {
  const h = tmpDb(t);
  return { ...h, ledger: new Ledger(h.db) };
}

test('insert stores a queued message and returns increasing ids; get reads it back', (t) => {
  const { ledger, db } = setup(t);
  const id = ledger.insert(msg());
  const id2 = ledger.insert(msg({ destAddr: '2', now: 2_000 }));
  assert.ok(id >= 1 && id2 > id);
  assert.deepEqual(ledger.get(id), {
    id,
    accountId: 1,
    origin: 'smpp',
    msg: id,
    part: 0,
    parts: 1,
    sourceAddr: 'SHOP',
    destAddr: '447700900001',
    registeredDelivery: 1,
    pdu: PDU,
    connector: null,
    state: MessageState.QUEUED,
    error: null,
    smscId: null,
    smscIdRaw: null,
    submittedAt: 1_000,
    doneAt: null,
  });
  assert.deepEqual(db.prepare('SELECT route_id, connectors, attempts, next_at, expires_at, sent_at FROM messages WHERE id = ?').get(id), {
    route_id: 3,
    connectors: 'c1,c2',
    attempts: 0,
    next_at: 1_000,
    expires_at: 99_000,
    sent_at: null,
  });
  assert.equal(ledger.get(12345), undefined);
});

test('markSent: ENROUTE on a connector with the carrier id, one more attempt', (t) => {
  const { ledger, db } = setup(t);
  const id = ledger.insert(msg());
  ledger.markSent(id, 'c2', 'a1b2', '0000A1B2', 1_500);
  const r = ledger.get(id)!;
  assert.equal(r.state, MessageState.ENROUTE);
  assert.equal(r.connector, 'c2');
  assert.equal(r.smscId, 'a1b2');
  assert.equal(r.smscIdRaw, '0000A1B2');
  assert.equal(r.doneAt, null);
  assert.deepEqual(db.prepare('SELECT attempts, sent_at FROM messages WHERE id = ?').get(id), { attempts: 1, sent_at: 1_500 });
});

test('awaitingReceipt: by connector and folded id, only messages still waiting; the newest wins when a carrier reuses an id', (t) => {
  const { ledger } = setup(t);
  const old = ledger.insert(msg());
  const other = ledger.insert(msg());
  const newer = ledger.insert(msg());
  ledger.markSent(old, 'c1', 'abc', 'ABC', 1);
  ledger.markSent(other, 'c2', 'abc', 'abc', 2);
  assert.equal(ledger.awaitingReceipt('c1', 'abc')!.id, old);
  ledger.markSent(newer, 'c1', 'abc', 'abc', 3);
  assert.equal(ledger.awaitingReceipt('c1', 'abc')!.id, newer);
  assert.deepEqual(ledger.awaitingReceipt('c2', 'abc'), { id: other, accountId: 1, origin: 'smpp', pdu: PDU, submittedAt: 1_000 });
  assert.equal(ledger.awaitingReceipt('c1', 'ABC'), undefined, 'the lookup is on the stored (folded) form');
  assert.equal(ledger.awaitingReceipt('c3', 'abc'), undefined);
  ledger.markFinal(newer, MessageState.DELIVERED, null, 4);
  assert.equal(ledger.awaitingReceipt('c1', 'abc')!.id, old, 'a final message no longer matches; the older one still waiting does');
  ledger.applyReceipt(old, MessageState.UNDELIVERABLE, 1, 5);
  assert.equal(ledger.awaitingReceipt('c1', 'abc'), undefined);
});

test('applyReceiptBySmscId: by connector and folded id, only messages still waiting; the newest wins when a carrier reuses an id', (t) => {
  const { ledger } = setup(t);
  const old = ledger.insert(msg());
  const other = ledger.insert(msg());
  const newer = ledger.insert(msg());
  ledger.markSent(old, 'c1', 'abc', 'ABC', 1);
  ledger.markSent(other, 'c2', 'abc', 'abc', 2);
  ledger.markSent(newer, 'c1', 'abc', 'abc', 3);
  assert.equal(ledger.applyReceiptBySmscId('c1', 'ABC', MessageState.DELIVERED, null, 4), undefined, 'the lookup is on the stored (folded) form');
  assert.equal(ledger.applyReceiptBySmscId('c3', 'abc', MessageState.DELIVERED, null, 4), undefined);
  assert.equal(ledger.applyReceiptBySmscId('c1', 'abc', MessageState.DELIVERED, null, 4)!.id, newer, 'the newest waiting one');
  assert.equal(
    ledger.applyReceiptBySmscId('c1', 'abc', MessageState.UNDELIVERABLE, 1, 5)!.id,
    old,
    'a final message no longer matches; the older one still waiting does',
  );
  assert.equal(ledger.applyReceiptBySmscId('c1', 'abc', MessageState.DELIVERED, null, 6), undefined);
  assert.deepEqual(ledger.applyReceiptBySmscId('c2', 'abc', MessageState.DELIVERED, null, 7), {
    id: other,
    accountId: 1,
    origin: 'smpp',
    pdu: PDU,
    submittedAt: 1_000,
  });
  assert.deepEqual(
    [old, other, newer].map((id) => [ledger.get(id)!.state, ledger.get(id)!.doneAt]),
    [
      [MessageState.UNDELIVERABLE, 5],
      [MessageState.DELIVERED, 7],
      [MessageState.DELIVERED, 4],
    ],
  );
});

test('markRetry keeps the message queued with a later next_at, counting the attempt and the error', (t) => {
  const { ledger, db } = setup(t);
  const id = ledger.insert(msg());
  ledger.markRetry(id, 5_000, 0x58);
  ledger.markRetry(id, 9_000, 0x14);
  assert.deepEqual(db.prepare('SELECT state, attempts, next_at, error FROM messages WHERE id = ?').get(id), {
    state: 0,
    attempts: 2,
    next_at: 9_000,
    error: 0x14,
  });
  assert.deepEqual(
    ledger.queuedPage(0, id, 10).map((q) => [q.id, q.attempts, q.nextAt]),
    [[id, 2, 9_000]],
  );
});

test('markFinal sets state, error and done time; keeps the connector unless one is given', (t) => {
  const { ledger } = setup(t);
  const a = ledger.insert(msg());
  ledger.markSent(a, 'c1', 'x', 'x', 1);
  ledger.markFinal(a, MessageState.EXPIRED, null, 7_000);
  assert.deepEqual([ledger.get(a)!.state, ledger.get(a)!.error, ledger.get(a)!.doneAt, ledger.get(a)!.connector], [MessageState.EXPIRED, null, 7_000, 'c1']);
  const b = ledger.insert(msg());
  ledger.markFinal(b, MessageState.REJECTED, 0x0b, 8_000, 'c2');
  assert.deepEqual([ledger.get(b)!.state, ledger.get(b)!.error, ledger.get(b)!.connector], [MessageState.REJECTED, 0x0b, 'c2']);
});

test('applyReceipt: applies from QUEUED or ENROUTE, refuses once final (duplicates)', (t) => {
  const { ledger } = setup(t);
  const id = ledger.insert(msg());
  ledger.markSent(id, 'c1', 'x', 'x', 1);
  assert.equal(ledger.applyReceipt(id, MessageState.ENROUTE, null, 2_000), true, 'an intermediate receipt');
  assert.equal(ledger.get(id)!.state, MessageState.ENROUTE);
  assert.equal(ledger.get(id)!.doneAt, null, 'ENROUTE is not an end');
  assert.equal(ledger.applyReceipt(id, MessageState.DELIVERED, 0, 3_000), true);
  assert.deepEqual([ledger.get(id)!.state, ledger.get(id)!.error, ledger.get(id)!.doneAt], [MessageState.DELIVERED, 0, 3_000]);
  assert.equal(ledger.applyReceipt(id, MessageState.UNDELIVERABLE, 5, 4_000), false, 'a later receipt does not overwrite a final state');
  assert.equal(ledger.applyReceipt(id, MessageState.ENROUTE, null, 4_000), false);
  assert.deepEqual([ledger.get(id)!.state, ledger.get(id)!.doneAt], [MessageState.DELIVERED, 3_000]);
  const queued = ledger.insert(msg());
  assert.equal(ledger.applyReceipt(queued, MessageState.UNDELIVERABLE, 1, 5_000), true, 'from QUEUED too');
  assert.equal(ledger.applyReceipt(queued, MessageState.DELIVERED, null, 6_000), false);
  const gatewayFinal = ledger.insert(msg());
  ledger.markFinal(gatewayFinal, MessageState.EXPIRED, null, 1);
  assert.equal(ledger.applyReceipt(gatewayFinal, MessageState.DELIVERED, null, 2), false, 'ended by the gateway: final too');
  assert.equal(ledger.applyReceipt(424242, MessageState.DELIVERED, null, 2), false, 'no such message');
});

test('queuedPage(): only QUEUED messages in the id range, oldest first, at most `limit`, with what the dispatcher needs; counts and expiry', (t) => {
  const { ledger } = setup(t);
  const a = ledger.insert(msg({ now: 3_000, connectors: ['c1'] }));
  const b = ledger.insert(msg({ now: 1_000, expiresAt: 5_000 }));
  const c = ledger.insert(msg({ now: 3_000 }));
  const sent = ledger.insert(msg({ now: 0 }));
  ledger.markSent(sent, 'c1', 'y', 'y', 1);
  const final = ledger.insert(msg({ now: 0 }));
  ledger.markFinal(final, MessageState.REJECTED, 1, 1);
  const d = ledger.insert(msg({ now: 3_000 }));
  assert.deepEqual(
    ledger.queuedPage(0, d, 10).map((m) => m.id),
    [a, b, c, d],
  );
  assert.deepEqual(
    ledger.queuedPage(0, c, 10).map((m) => m.id),
    [a, b, c],
    'not past toId',
  );
  assert.deepEqual(
    ledger.queuedPage(b, d, 2).map((m) => m.id),
    [b, c],
    'from fromId, at most limit',
  );
  const [first] = ledger.queuedPage(a, a, 1);
  assert.deepEqual(first, {
    id: a,
    accountId: 1,
    origin: 'smpp',
    pdu: PDU,
    connectors: ['c1'],
    attempts: 0,
    nextAt: 3_000,
    expiresAt: 99_000,
    submittedAt: 3_000,
  });
  assert.deepEqual(ledger.queuedPage(b, b, 1)[0]!.connectors, ['c1', 'c2']);
  ledger.markRetry(b, 10_000, 0x58);
  assert.deepEqual(
    ledger.queuedPage(0, d, 10).map((m) => [m.id, m.attempts]),
    [
      [a, 0],
      [b, 1],
      [c, 0],
      [d, 0],
    ],
    'a retry stays queued',
  );
  assert.equal(ledger.countQueued(), 4);
  assert.equal(ledger.maxId(), d);
  assert.deepEqual(ledger.expiredQueued(5_000, 10), [{ id: b, accountId: 1, origin: 'smpp', pdu: PDU, submittedAt: 1_000 }]);
  assert.deepEqual(ledger.expiredQueued(4_999, 10), []);
});

test('park / takeParked: by connector and id, all of them, once', (t) => {
  const { ledger } = setup(t);
  ledger.park('c1', 'abc', '{"n":1}', 1);
  ledger.park('c1', 'abc', '{"n":2}', 2);
  ledger.park('c2', 'abc', '{"n":3}', 3);
  ledger.park('c1', 'abd', '{"n":4}', 4);
  assert.deepEqual(ledger.takeParked('c1', 'abc').sort(), ['{"n":1}', '{"n":2}']);
  assert.deepEqual(ledger.takeParked('c1', 'abc'), [], 'taken means removed');
  assert.deepEqual(ledger.takeParked('c2', 'abc'), ['{"n":3}']);
  assert.deepEqual(ledger.takeParked('c1', 'abd'), ['{"n":4}']);
  assert.deepEqual(ledger.takeParked('c9', 'zzz'), []);
});

test('prune: final messages done before the cut, parked receipts received before it; others stay', (t) => {
  const { ledger, db } = setup(t);
  const oldFinal = ledger.insert(msg());
  ledger.markFinal(oldFinal, MessageState.DELIVERED, null, 100);
  const edge = ledger.insert(msg());
  ledger.markFinal(edge, MessageState.DELIVERED, null, 500);
  const newFinal = ledger.insert(msg());
  ledger.markFinal(newFinal, MessageState.DELIVERED, null, 900);
  const queued = ledger.insert(msg({ now: 1 }));
  const enroute = ledger.insert(msg({ now: 1 }));
  ledger.markSent(enroute, 'c1', 'e', 'e', 2);
  ledger.park('c1', 'old', '{}', 100);
  ledger.park('c1', 'new', '{}', 600);
  assert.equal(ledger.prune(500), 1, 'strictly before the cut');
  assert.equal(ledger.get(oldFinal), undefined);
  for (const id of [edge, newFinal, queued, enroute]) assert.ok(ledger.get(id), `message ${id} kept`);
  assert.deepEqual(db.prepare('SELECT smsc_id FROM parked_receipts').pluck().all(), ['new']);
  assert.equal(ledger.prune(10_000), 2, 'unfinished messages are never pruned');
  assert.deepEqual(db.prepare('SELECT COUNT(*) FROM parked_receipts').pluck().get(), 0);
});

test('prune deletes at most `limit` messages a call, and parked receipts by their own cut', (t) => {
  const { ledger, db } = setup(t);
  for (let i = 0; i < 5; i++) ledger.markFinal(ledger.insert(msg()), MessageState.DELIVERED, null, 100);
  ledger.park('c1', 'p', '{}', 700);
  assert.equal(ledger.prune(500, 2, 800), 2);
  assert.deepEqual(db.prepare('SELECT COUNT(*) FROM parked_receipts').pluck().get(), 0, 'parked cut at 800');
  assert.equal(ledger.prune(500, 2), 2);
  assert.equal(ledger.prune(500, 2), 1);
  assert.equal(ledger.prune(500, 2), 0);
});

test('replacePdu only while the message is queued here', (t) => {
  const { ledger } = setup(t);
  const id = ledger.insert(msg());
  const other = Buffer.from('replacement');
  assert.equal(ledger.replacePdu(id, other, 0), true);
  assert.deepEqual([ledger.get(id)!.pdu, ledger.get(id)!.registeredDelivery], [other, 0]);
  ledger.markSent(id, 'c1', 'x', 'x', 1);
  assert.equal(ledger.replacePdu(id, PDU, 1), false);
  assert.deepEqual(ledger.get(id)!.pdu, other);
  assert.equal(ledger.replacePdu(9999, PDU, 1), false);
});

test('counts by state', (t) => {
  const { ledger } = setup(t);
  assert.deepEqual(ledger.counts(), {});
  for (let i = 0; i < 3; i++) ledger.insert(msg());
  const s = ledger.insert(msg());
  ledger.markSent(s, 'c1', 's', 's', 1);
  const d = ledger.insert(msg());
  ledger.markFinal(d, MessageState.DELIVERED, null, 1);
  assert.deepEqual(ledger.counts(), { [MessageState.QUEUED]: 3, [MessageState.ENROUTE]: 1, [MessageState.DELIVERED]: 1 });
});

test('the PDU is kept byte for byte', (t) => {
  const { ledger, reopen } = setup(t);
  const bytes = Buffer.from([0, 1, 2, 0xff, 0, 0x80]);
  const id = ledger.insert(msg({ pdu: bytes }));
  assert.deepEqual(new Ledger(reopen()).get(id)!.pdu, bytes);
});

test('takeParked finds receipts parked by another connection (mayHaveParked is recomputed by prune)', (t) => {
  const h = tmpDb(t);
  const ledger = new Ledger(h.db);
  const other = new Ledger(h.reopen());
  other.park('c1', 'x', '{"n":1}', 1);
  // This ledger has not seen a park: it may skip the lookup, but prune() (run every minute) or a
  // new Ledger (at start) finds what the file holds.
  ledger.prune(0);
  assert.deepEqual(ledger.takeParked('c1', 'x'), ['{"n":1}']);
  other.park('c1', 'y', '{"n":2}', 1);
  assert.deepEqual(new Ledger(h.db).takeParked('c1', 'y'), ['{"n":2}']);
});

test('applyReceiptBySmscId: finds the newest message still waiting under that id and records the receipt in one statement', (t) => {
  const { ledger } = setup(t);
  const old = ledger.insert(msg());
  const newer = ledger.insert(msg());
  ledger.markSent(old, 'c1', 'abc', 'abc', 1);
  ledger.markSent(newer, 'c1', 'abc', 'abc', 2);
  assert.deepEqual(ledger.applyReceiptBySmscId('c1', 'abc', MessageState.DELIVERED, 0, 10), {
    id: newer,
    accountId: 1,
    origin: 'smpp',
    pdu: PDU,
    submittedAt: 1_000,
  });
  assert.deepEqual([ledger.get(newer)!.state, ledger.get(newer)!.doneAt], [MessageState.DELIVERED, 10]);
  assert.equal(ledger.applyReceiptBySmscId('c1', 'abc', MessageState.ENROUTE, null, 11)!.id, old, 'an intermediate receipt');
  assert.deepEqual([ledger.get(old)!.state, ledger.get(old)!.doneAt], [MessageState.ENROUTE, null], 'still waiting, no done time');
  assert.equal(ledger.applyReceiptBySmscId('c1', 'abc', MessageState.UNDELIVERABLE, 1, 12)!.id, old);
  assert.equal(ledger.applyReceiptBySmscId('c1', 'abc', MessageState.DELIVERED, 0, 13), undefined, 'none waiting any more');
  assert.equal(ledger.applyReceiptBySmscId('c2', 'abc', MessageState.DELIVERED, 0, 13), undefined);
});
