// Accounts have an internal id that is never reused: a removed account stays as a tombstone that
// owns its messages, removal is refused while it has work here unless purged, and a database from
// before the ids (schema 3) is migrated with every row keeping its owner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MessageState } from '../../../src/smpp/message-state.js';
import { InvalidInputError } from '../../../src/errors.js';
import { AccountStore } from '../../../src/store/accounts.js';
import { applyMigration, migrate, openDb } from '../../../src/store/db.js';
import { Ledger } from '../../../src/store/ledger.js';
import { Outbox } from '../../../src/store/outbox.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { encode } from '../../../src/smpp/codec.js';
import { moRecord, receiptRecord } from '../../helpers/outbox-records.js';
import { tmpDb, tmpDbPath } from '../../helpers/tmpdb.js';

const PDU = Buffer.from('submit_sm bytes');

function message(ledger: Ledger, accountId: number): number {
  return ledger.insert({
    accountId,
    sourceAddr: 'SHOP',
    destAddr: '4477',
    registeredDelivery: 1,
    pdu: PDU,
    routeId: 1,
    connectors: ['c'],
    expiresAt: 99_000,
    now: 1_000,
  });
}

test('a re-created account gets a new id; the old one keeps its messages and no later account sees them', (t) => {
  const { db } = tmpDb(t);
  const accounts = new AccountStore(db);
  const ledger = new Ledger(db);
  const old = accounts.add('acc2', { password: 'one' });
  const id = message(ledger, old.id);
  ledger.markFinal(id, MessageState.DELIVERED, 0, 2_000);
  accounts.remove('acc2');
  const fresh = accounts.add('acc2', { password: 'two' });
  assert.notEqual(fresh.id, old.id);
  assert.equal(ledger.get(id)!.accountId, old.id, 'the message stays with the old account (billing)');
  assert.deepEqual(
    accounts.list().map((a) => a.id),
    [fresh.id],
  );
  // Ids are never reused, even when the newest account row is the one removed.
  accounts.remove('acc2');
  assert.ok(accounts.add('acc3', { password: 'x' }).id > fresh.id);
  // The tombstone is kept, without a password.
  assert.deepEqual(db.prepare('SELECT system_id, password_hash, enabled FROM accounts WHERE id = ?').get(old.id), {
    system_id: 'acc2',
    password_hash: '',
    enabled: 0,
  });
});

test('remove is refused while messages are queued or receipts/MOs wait, and --purge ends them', (t) => {
  const { db } = tmpDb(t);
  const accounts = new AccountStore(db, () => 5_000);
  const ledger = new Ledger(db);
  const outbox = new Outbox(db);
  const a = accounts.add('busy', { password: 'x' });
  const other = accounts.add('other', { password: 'x' });
  const queued = [message(ledger, a.id), message(ledger, a.id)];
  const sent = message(ledger, a.id);
  ledger.markSent(sent, 'c', 'abc', 'abc', 1_500);
  const mine = message(ledger, other.id);
  outbox.add(a.id, receiptRecord(sent), 1_000, 60_000);
  outbox.add(other.id, moRecord('mo'), 1_000, 60_000);
  assert.throws(
    () => accounts.remove('busy'),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /busy has 2 queued message\(s\) and 1 receipt\(s\)\/MO\(s\) waiting; --purge/);
      return true;
    },
  );
  assert.ok(accounts.get('busy'), 'still there after the refusal');
  assert.deepEqual(accounts.remove('busy', { purge: true }), { id: a.id, deletedMessages: 2, droppedOutbox: 1 });
  for (const id of queued) assert.deepEqual([ledger.get(id)!.state, ledger.get(id)!.doneAt], [MessageState.DELETED, 5_000]);
  assert.equal(ledger.get(sent)!.state, MessageState.ENROUTE, 'a message a carrier has keeps waiting for its receipt');
  assert.equal(ledger.get(mine)!.state, MessageState.QUEUED, "another account's message is untouched");
  assert.deepEqual(
    outbox.all().map((i) => i.accountId),
    [other.id],
    "only the removed account's outbox items go",
  );
  // A purged message that was on the wire meanwhile is not recorded as sent.
  ledger.markSent(queued[0]!, 'c', 'late', 'late', 6_000);
  assert.equal(ledger.get(queued[0]!)!.state, MessageState.DELETED);
});

test('schema 3 → 4: messages and outbox items keep their owner; removed owners come back as tombstones', (t) => {
  const p = tmpDbPath(t);
  const raw = new Database(p.path);
  for (let v = 0; v < 3; v++) applyMigration(raw, MIGRATIONS[v]!);
  raw.pragma('user_version = 3');
  raw.prepare("INSERT INTO accounts (system_id, password_hash, tps, created_at, updated_at) VALUES ('live', 'h', 7, 1, 1), ('also', 'h2', 0, 2, 2)").run();
  const ins = raw.prepare(
    "INSERT INTO messages (account, source_addr, dest_addr, registered_delivery, pdu, connectors, state, next_at, expires_at, submitted_at) VALUES (?, 's', 'd', 0, x'00', 'c', 0, 0, 0, 0)",
  );
  for (const a of ['live', 'gone', 'live', 'also']) ins.run(a);
  const mo = encode({ command: 'deliver_sm', sequence_number: 1, source_addr: '4917000000', destination_addr: '12345', short_message: Buffer.from('hi') });
  raw
    .prepare("INSERT INTO outbox (account, kind, pdu, next_at, expires_at, created_at) VALUES ('gone', 'mo', ?, 0, 0, 0), ('also', 'dlr', ?, 0, 0, 0)")
    .run(mo, mo);
  raw.close();
  const db = openDb(p.path, { synchronous: 'normal' });
  t.after(() => db.close());
  assert.equal(migrate(db), MIGRATIONS.length);
  const owners = db
    .prepare('SELECT a.system_id, a.removed_at IS NOT NULL AS removed FROM messages m JOIN accounts a ON a.id = m.account_id ORDER BY m.id')
    .all();
  assert.deepEqual(owners, [
    { system_id: 'live', removed: 0 },
    { system_id: 'gone', removed: 1 },
    { system_id: 'live', removed: 0 },
    { system_id: 'also', removed: 0 },
  ]);
  assert.deepEqual(db.prepare('SELECT a.system_id FROM outbox o JOIN accounts a ON a.id = o.account_id ORDER BY o.id').pluck().all(), ['gone', 'also']);
  const accounts = new AccountStore(db);
  assert.deepEqual(
    accounts.list().map((a) => [a.systemId, a.tps]),
    [
      ['also', 0],
      ['live', 7],
    ],
    'the tombstone is not a live account',
  );
  // The removed system_id can be taken again, and gets an id of its own.
  const tomb = db.prepare("SELECT id FROM accounts WHERE system_id = 'gone'").pluck().get() as number;
  assert.notEqual(accounts.add('gone', { password: 'x' }).id, tomb);
});
