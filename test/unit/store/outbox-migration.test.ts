// Schema 7: a database of schema 6 whose outbox holds encoded deliver_sm (a receipt the gateway
// wrote, an MO with TLVs, a carrier-style receipt, a damaged blob) opens with structured records
// that render to the same deliver_sm, byte for byte; a receipt's id is rendered from its row in the
// account's format at send time; ids and their sequence carry over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { receiptBody } from '../../../src/dlr/receipt.js';
import { renderDeliverSm } from '../../../src/esme/deliver-sm.js';
import { messageIdsFor } from '../../../src/messages/ids-store.js';
import { encode } from '../../../src/smpp/codec.js';
import { applyMigration, openDb } from '../../../src/store/db.js';
import { Outbox } from '../../../src/store/outbox.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { moRecord } from '../../helpers/outbox-records.js';
import { tmpDbPath } from '../../helpers/tmpdb.js';

const SUBMITTED = Date.UTC(2026, 11, 4, 9, 30);
const DONE = Date.UTC(2026, 11, 4, 9, 31);

test('schema 6 → 7: stored deliver_sm become records that render to the same bytes', (t) => {
  const { path } = tmpDbPath(t);
  const old = new Database(path);
  for (let v = 0; v < 6; v++) applyMigration(old, MIGRATIONS[v]!);
  old.pragma('user_version = 6');
  old.prepare(`INSERT INTO accounts (system_id, password_hash, id_format, created_at, updated_at) VALUES ('shop', 'x', 'dec', 0, 0)`).run();
  const ids = messageIdsFor(old, { node: 0 });
  const row = ids.next();

  // As the ReceiptService of schema 6 wrote it: its id rendered in the account's format (dec).
  const receipt = receiptBody({ id: ids.format(row, 'dec'), state: 5, err: '00b', submittedAt: SUBMITTED, doneAt: DONE, text: 'your code is 1234' });
  const receiptPdu = encode({
    command: 'deliver_sm',
    sequence_number: 1,
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900123',
    dest_addr_ton: 5,
    dest_addr_npi: 0,
    destination_addr: 'SHOP',
    esm_class: 0x04,
    short_message: receipt.short_message,
    tlvs: receipt.tlvs,
  });
  // As inbound stored an MO: the carrier's fields and TLVs as they came.
  const moPdu = encode({
    command: 'deliver_sm',
    sequence_number: 1,
    service_type: 'CMT',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4917000000',
    dest_addr_ton: 3,
    dest_addr_npi: 9,
    destination_addr: '12345',
    esm_class: 0x40,
    protocol_id: 0x7f,
    priority_flag: 1,
    registered_delivery: 0x10,
    data_coding: 0x08,
    short_message: Buffer.from([5, 0, 3, 7, 2, 1, 0, 0x56, 0, 0x4f]),
    tlvs: [
      { tag: 0x020a, value: Buffer.from([0x1f, 0x90]) },
      { tag: 0x0204, value: Buffer.from([0, 9]) },
      { tag: 0x1401, value: Buffer.from('vendor') },
    ],
  });
  // A receipt in a form the gateway never wrote (say, passed through by hand): kept as it is.
  const otherPdu = encode({
    command: 'deliver_sm',
    sequence_number: 1,
    source_addr: '1',
    destination_addr: '2',
    esm_class: 0x04,
    short_message: Buffer.from('id:XYZ stat:DELIVRD'),
    tlvs: [{ tag: 0x0427, value: Buffer.from([2]) }],
  });
  const insert = old.prepare(
    'INSERT INTO outbox (account_id, kind, pdu, message_id, attempts, next_at, expires_at, created_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)',
  );
  insert.run('dlr', receiptPdu, row, 3, 5_000, 99_000, 1_000);
  insert.run('mo', moPdu, null, 0, 2_000, 98_000, 2_000);
  insert.run('dlr', otherPdu, row, 1, 3_000, 97_000, 3_000);
  insert.run('mo', Buffer.from([0, 0, 0, 1]), null, 0, 0, 0, 0); // never sendable
  insert.run('mo', moPdu, null, 0, 0, 0, 0);
  old.prepare('DELETE FROM outbox WHERE id = 5').run(); // given out once: never again
  old.close();

  const db = openDb(path);
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length, 'migrated to the latest');
  const outbox = new Outbox(db);
  const items = outbox.all();
  assert.deepEqual(
    items.map((i) => [i.id, i.kind, i.attempts, i.nextAt, i.expiresAt]),
    [
      [1, 'dlr', 3, 5_000, 99_000],
      [2, 'mo', 0, 2_000, 98_000],
      [3, 'dlr', 1, 3_000, 97_000],
    ],
    'the damaged blob is gone; the rest keep their ids and schedule',
  );
  const [dlr, mo, other] = items as [(typeof items)[0], (typeof items)[0], (typeof items)[0]];
  assert.deepEqual(dlr.receipt, { state: 5, err: '00b', submittedAt: SUBMITTED, doneAt: DONE, text: 'your code is 1234' });
  assert.equal(dlr.messageId, row);
  assert.equal(other.receipt, null, 'not our receipt: kept as stored');

  const ids7 = messageIdsFor(db, { node: 0 });
  const send = (item: typeof dlr, format: 'hex' | 'dec') => encode({ ...renderDeliverSm(item, (r) => ids7.format(r, format)), sequence_number: 1 });
  assert.deepEqual(send(dlr, 'dec'), receiptPdu, 'the receipt, byte for byte');
  assert.deepEqual(send(mo, 'dec'), moPdu, 'the MO, byte for byte');
  assert.deepEqual(send(other, 'dec'), otherPdu, 'the foreign receipt, byte for byte');
  // The id is not frozen: the account's format at send time decides it.
  const hex = receiptBody({ id: ids7.format(row, 'hex'), state: 5, err: '00b', submittedAt: SUBMITTED, doneAt: DONE, text: 'your code is 1234' });
  assert.deepEqual(renderDeliverSm(dlr, (r) => ids7.format(r, 'hex')).short_message, hex.short_message);

  assert.equal(outbox.add(1, moRecord('new'), 0, 1).id, 6, 'the id sequence carries over');
});
