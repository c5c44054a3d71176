// Outbox: deliver_sm PDUs waiting for an account's receiver — add, retry, remove, all, counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox } from '../../../src/store/outbox.js';
import { tmpDb } from '../../helpers/tmpdb.js';

function setup(t: Parameters<typeof tmpDb>[0]) {
  const h = tmpDb(t);
  return { ...h, outbox: new Outbox(h.db) };
}

test('add returns the stored item; all() reads it back the same, oldest first', (t) => {
  const { outbox, reopen } = setup(t);
  const pdu = Buffer.from([0, 0, 0, 0x10, 0x00, 0x00, 0x00, 0x05]);
  const a = outbox.add(1, 'dlr', pdu, 17, 1_000, 60_000);
  assert.deepEqual(a, { id: a.id, accountId: 1, kind: 'dlr', pdu, messageId: 17, attempts: 0, nextAt: 1_000, expiresAt: 61_000 });
  const b = outbox.add(2, 'mo', Buffer.from('mo'), null, 2_000, 5);
  assert.ok(b.id > a.id);
  assert.deepEqual(outbox.all(), [a, b]);
  assert.deepEqual(new Outbox(reopen()).all(), [a, b], 'durable: another connection reads the same');
});

test('retry counts the attempt and moves next_at; remove deletes one item only', (t) => {
  const { outbox } = setup(t);
  const a = outbox.add(1, 'dlr', Buffer.from('a'), 1, 0, 100);
  const b = outbox.add(1, 'dlr', Buffer.from('b'), 2, 0, 100);
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
  outbox.add(1, 'dlr', Buffer.from('1'), 1, 0, 1);
  outbox.add(1, 'mo', Buffer.from('2'), null, 0, 1);
  outbox.add(2, 'mo', Buffer.from('3'), null, 0, 1);
  assert.deepEqual(outbox.countByAccount(), new Map([[1, 2], [2, 1]]));
});

test('the kind is checked by the schema', (t) => {
  const { outbox } = setup(t);
  assert.throws(() => outbox.add(1, 'sms' as 'mo', Buffer.from('x'), null, 0, 1), /CHECK/);
  assert.deepEqual(outbox.all(), []);
});
