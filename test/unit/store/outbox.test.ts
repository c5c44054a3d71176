// Outbox: receipts and MOs as structured records waiting for an account's receiver — add, retry,
// remove, all, counts; every field (TLVs and receipt fields included) reads back as stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox, packTlvs, unpackTlvs } from '../../../src/store/outbox.js';
import { moRecord, receiptRecord } from '../../helpers/outbox-records.js';
import { tmpDb } from '../../helpers/tmpdb.js';

function setup(t: Parameters<typeof tmpDb>[0]) {
  const h = tmpDb(t);
  return { ...h, outbox: new Outbox(h.db) };
}

test('add returns the stored item; all() reads it back the same, oldest first', (t) => {
  const { outbox, reopen } = setup(t);
  const dlr = receiptRecord(17, { state: 5, err: '00b', text: 'hello' });
  const a = outbox.add(1, dlr, 1_000, 60_000);
  assert.deepEqual(a, { ...dlr, id: a.id, accountId: 1, attempts: 0, nextAt: 1_000, expiresAt: 61_000 });
  const mo = moRecord('VOTE A', {
    source: { addr: '4917000000', ton: 1, npi: 1 },
    destination: { addr: '12345', ton: 3, npi: 9 },
    serviceType: 'CMT',
    esmClass: 0x40,
    protocolId: 0x7f,
    priorityFlag: 1,
    registeredDelivery: 0x10,
    dataCoding: 0x08,
    tlvs: [
      { tag: 0x020c, value: Buffer.from([0, 7]) },
      { tag: 0x0424, value: Buffer.alloc(0) },
      { tag: 0x1401, value: Buffer.from('vendor') },
    ],
  });
  const b = outbox.add(2, mo, 2_000, 5);
  assert.ok(b.id > a.id);
  // A receipt with fields of its own (not the plain form the receipt service writes) keeps them too.
  const odd = { ...receiptRecord(18, { state: 2 }), serviceType: 'CMT', dataCoding: 0x08, tlvs: [{ tag: 0x1401, value: Buffer.from('x') }] };
  const c = outbox.add(1, odd, 3_000, 60_000);
  assert.deepEqual(c, { ...odd, id: c.id, accountId: 1, attempts: 0, nextAt: 3_000, expiresAt: 63_000 });
  assert.deepEqual(outbox.all(), [a, b, c]);
  assert.deepEqual(new Outbox(reopen()).all(), [a, b, c], 'durable: another connection reads the same');
});

test('TLVs are kept in their wire form: tag, length, value', () => {
  const tlvs = [
    { tag: 0x0204, value: Buffer.from([1, 2]) },
    { tag: 0x0427, value: Buffer.alloc(0) },
  ];
  assert.deepEqual(packTlvs(tlvs), Buffer.from([0x02, 0x04, 0, 2, 1, 2, 0x04, 0x27, 0, 0]));
  assert.deepEqual(unpackTlvs(packTlvs(tlvs)), tlvs);
  assert.equal(packTlvs([]), null);
  assert.deepEqual(unpackTlvs(null), []);
});

test('retry counts the attempt and moves next_at; remove deletes one item only', (t) => {
  const { outbox } = setup(t);
  const a = outbox.add(1, receiptRecord(1), 0, 100);
  const b = outbox.add(1, receiptRecord(2), 0, 100);
  outbox.retry(a.id, 500);
  outbox.retry(a.id, 1_500);
  assert.deepEqual(outbox.all()[0], { ...a, attempts: 2, nextAt: 1_500 });
  assert.deepEqual(outbox.all()[1], b);
  outbox.remove(a.id);
  assert.deepEqual(outbox.all(), [b]);
  outbox.remove(a.id); // already gone: no error
  outbox.retry(a.id, 9); // no such item: no error, nothing created
  assert.deepEqual(outbox.all(), [b]);
});

test('countByAccount', (t) => {
  const { outbox } = setup(t);
  assert.deepEqual(outbox.countByAccount(), new Map());
  outbox.add(1, receiptRecord(1), 0, 1);
  outbox.add(1, moRecord('2'), 0, 1);
  outbox.add(2, moRecord('3'), 0, 1);
  assert.deepEqual(
    outbox.countByAccount(),
    new Map([
      [1, 2],
      [2, 1],
    ]),
  );
});

test('the kind is checked by the schema', (t) => {
  const { outbox } = setup(t);
  assert.throws(() => outbox.add(1, moRecord('x', { kind: 'sms' as 'mo' }), 0, 1), /CHECK/);
  assert.deepEqual(outbox.all(), []);
});
