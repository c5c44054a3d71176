// Message text is kept no longer than needed: a final message's body is dropped by dropBodies
// (the row stays), and deleted or overwritten content is zeroed in the file (secure_delete), so
// an OTP does not linger in free space.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MessageState } from '../../../src/smpp/message-state.js';
import { encode } from '../../../src/smpp/codec.js';
import { Ledger } from '../../../src/store/ledger.js';
import { Outbox } from '../../../src/store/outbox.js';
import { moRecord, receiptRecord } from '../../helpers/outbox-records.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const otp = (n: number) =>
  encode({ command: 'submit_sm', sequence_number: 1, source_addr: 'BANK', destination_addr: '4915100000001', short_message: Buffer.from(`Your code is ${n}`) });

function insert(ledger: Ledger, n: number): number {
  return ledger.insert({
    accountId: 1,
    sourceAddr: 'BANK',
    destAddr: '4915100000001',
    registeredDelivery: 1,
    pdu: otp(n),
    routeId: 1,
    connectors: ['c'],
    expiresAt: 1e12,
    now: 1_000,
  });
}

/** The database file's bytes once the WAL is checkpointed into it and emptied. */
function fileBytes(db: ReturnType<typeof tmpDb>['db'], path: string): string {
  db.pragma('wal_checkpoint(TRUNCATE)');
  return readFileSync(path).toString('latin1');
}

test('dropBodies empties the body of final messages done by the cut, and only those', (t) => {
  const { db } = tmpDb(t);
  const ledger = new Ledger(db);
  const early = insert(ledger, 111111);
  const late = insert(ledger, 222222);
  const queued = insert(ledger, 333333);
  const sent = insert(ledger, 444444);
  ledger.markFinal(early, MessageState.DELIVERED, 0, 5_000);
  ledger.markFinal(late, MessageState.UNDELIVERABLE, 1, 9_000);
  ledger.markSent(sent, 'c', 'x1', 'X1', 2_000);
  assert.equal(ledger.dropBodies(6_000, 10_000), 1);
  assert.equal(ledger.get(early)!.pdu.length, 0);
  assert.deepEqual(db.prepare('SELECT state, dest_addr, body_dropped_at FROM messages WHERE id = ?').get(early), {
    state: MessageState.DELIVERED,
    dest_addr: '4915100000001',
    body_dropped_at: 10_000,
  });
  for (const id of [late, queued, sent]) assert.ok(ledger.get(id)!.pdu.length > 0, `message ${id} keeps its body`);
  assert.equal(ledger.dropBodies(6_000, 11_000), 0, 'nothing twice');
  assert.equal(ledger.dropBodies(9_000, 12_000), 1);
  // In chunks.
  for (let i = 0; i < 7; i++) ledger.markFinal(insert(ledger, 500000 + i), MessageState.EXPIRED, null, 9_500);
  assert.deepEqual([ledger.dropBodies(9_500, 13_000, 5), ledger.dropBodies(9_500, 13_000, 5)], [5, 2]);
});

test('a dropped body and a delivered outbox item leave no text in the file', (t) => {
  const { db, path } = tmpDb(t);
  const ledger = new Ledger(db);
  const outbox = new Outbox(db);
  const ids = Array.from({ length: 50 }, (_, i) => insert(ledger, 900000 + i));
  const receipt = outbox.add(1, receiptRecord(ids[0]!, { text: 'Your code is 977777' }), 1_000, 60_000);
  const mo = outbox.add(1, moRecord('STOP private words 424242'), 1_000, 60_000);
  assert.ok(fileBytes(db, path).includes('Your code is 900049'), 'the text is in the file while the message needs it');
  for (const id of ids) ledger.markFinal(id, MessageState.DELIVERED, 0, 2_000);
  ledger.dropBodies(3_000, 4_000);
  outbox.remove(receipt.id);
  outbox.remove(mo.id);
  const bytes = fileBytes(db, path);
  assert.equal(bytes.split('Your code is').length - 1, 0, 'no OTP text left in the file');
  assert.equal(bytes.split('private words').length - 1, 0, 'no MO text left in the file');
  assert.ok(bytes.includes('4915100000001'), 'the rows themselves stay');
});
