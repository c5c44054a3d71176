// The ledger as a message of parts: each part a row with its own carrier, carrier id, state and
// receipt; the message's state adds them up. Ids from the keyed allocator, old rows kept.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { test } from 'node:test';
import { MessageState } from '../../../src/smpp/message-state.js';
import { messageIdsFor } from '../../../src/messages/ids-store.js';
import { messageState } from '../../../src/messages/parts.js';
import { encode } from '../../../src/smpp/codec.js';
import { applyMigration, openDb } from '../../../src/store/db.js';
import { Ledger, type NewMessage } from '../../../src/store/ledger.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { tmpDb, tmpDbPath } from '../../helpers/tmpdb.js';

const part = (text: string): Buffer =>
  encode({
    command: 'submit_sm',
    sequence_number: 1,
    source_addr: 'SHOP',
    destination_addr: '447700900001',
    registered_delivery: 1,
    short_message: Buffer.from(text),
  });
const msg = (over: Partial<NewMessage> = {}): NewMessage => ({
  accountId: 1,
  sourceAddr: 'SHOP',
  destAddr: '447700900001',
  registeredDelivery: 1,
  pdu: part('x'),
  routeId: 1,
  connectors: ['c1'],
  expiresAt: 99_000,
  now: 1_000,
  ...over,
});

test('messageState: queued, on its way, delivered only when every part is, else the first failure', () => {
  const { QUEUED, ENROUTE, DELIVERED, UNDELIVERABLE, EXPIRED } = MessageState;
  assert.equal(messageState([DELIVERED]), DELIVERED);
  assert.equal(messageState([QUEUED, QUEUED]), QUEUED);
  assert.equal(messageState([ENROUTE, QUEUED]), ENROUTE);
  assert.equal(messageState([DELIVERED, ENROUTE]), ENROUTE);
  assert.equal(messageState([DELIVERED, DELIVERED, DELIVERED]), DELIVERED);
  assert.equal(messageState([DELIVERED, UNDELIVERABLE, EXPIRED]), UNDELIVERABLE);
  assert.throws(() => messageState([]));
});

test('a message of three parts: rows share the message, each part sent and answered on its own', (t) => {
  const { db } = tmpDb(t);
  const ids = messageIdsFor(db, { node: 0 });
  const ledger = new Ledger(db, { nextId: () => ids.next() });
  const [a, b, c] = ledger.insertParts(msg(), [part('one'), part('two'), part('three')]) as [number, number, number];
  assert.ok(a < b && b < c);
  const parts = ledger.partsOf(a);
  assert.deepEqual(
    parts.map((p) => [p.msg, p.part, p.parts, p.pdu.equals(part(['one', 'two', 'three'][p.part]!))]),
    [
      [a, 0, 3, true],
      [a, 1, 3, true],
      [a, 2, 3, true],
    ],
  );
  ledger.markSent(a, 'c1', 'x1', 'X1', 2_000);
  ledger.markSent(b, 'c2', 'y2', 'Y2', 2_000);
  ledger.markSent(c, 'c1', 'x3', 'X3', 2_000);
  assert.equal(ledger.applyReceiptBySmscId('c2', 'y2', MessageState.DELIVERED, null, 3_000)?.id, b);
  assert.equal(messageState(ledger.partsOf(a).map((p) => p.state)), MessageState.ENROUTE);
  ledger.applyReceiptBySmscId('c1', 'x1', MessageState.DELIVERED, null, 3_000);
  ledger.applyReceiptBySmscId('c1', 'x3', MessageState.UNDELIVERABLE, 11, 3_000);
  const done = ledger.partsOf(a);
  assert.deepEqual(
    done.map((p) => [p.connector, p.smscId, p.state]),
    [
      ['c1', 'x1', 2],
      ['c2', 'y2', 2],
      ['c1', 'x3', 5],
    ],
  );
  assert.equal(messageState(done.map((p) => p.state)), MessageState.UNDELIVERABLE);
  // One part alone is a message of one part.
  const single = ledger.insert(msg());
  assert.deepEqual(
    ledger.partsOf(single).map((p) => [p.msg, p.part, p.parts]),
    [[single, 0, 1]],
  );
  assert.deepEqual(ledger.partsOf(b), [], 'a later part is not a message');
});

test('system messages are marked as such for the receipt side', (t) => {
  const { db } = tmpDb(t);
  const ledger = new Ledger(db);
  const id = ledger.insert(msg({ origin: 'system' }));
  ledger.markSent(id, 'c1', 'z', 'Z', 2_000);
  assert.equal(ledger.get(id)?.origin, 'system');
  assert.equal(ledger.applyReceiptBySmscId('c1', 'z', MessageState.DELIVERED, null, 3_000)?.origin, 'system');
});

test('a database of the schema before: its messages become one-part messages and keep their ids', (t) => {
  const { path } = tmpDbPath(t);
  const old = new Database(path);
  for (let v = 0; v < 5; v++) applyMigration(old, MIGRATIONS[v]!);
  old.pragma('user_version = 5');
  old.prepare(`INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES ('a', 'x', 0, 0)`).run();
  const insert =
    old.prepare(`INSERT INTO messages (account_id, source_addr, dest_addr, registered_delivery, pdu, connectors, state, next_at, expires_at, submitted_at)
    VALUES (1, 'S', 'D', 1, ?, 'c1', 0, 0, 99000, 0)`);
  for (let i = 0; i < 40; i++) insert.run(part(`m${i}`));
  old.prepare('DELETE FROM messages WHERE id > 30').run(); // pruned: ids 31..40 were given out all the same
  old.close();
  const db = openDb(path);
  t.after(() => db.close());
  const ids = messageIdsFor(db, { node: 0 });
  assert.equal(ids.legacyMax, 40);
  const ledger = new Ledger(db, { nextId: () => ids.next() });
  const oldOne = ledger.get(7)!;
  assert.deepEqual([oldOne.msg, oldOne.part, oldOne.parts, oldOne.origin], [7, 0, 1, 'smpp']);
  assert.equal(ids.format(7, 'hex'), '7', 'ids given out before are shown as before');
  assert.equal(ids.parse('7', 'hex'), 7);
  assert.equal(ids.parse('38', 'dec'), 38, 'a pruned old id still parses (and finds nothing)');
  const fresh = ledger.insert(msg());
  assert.ok(fresh > 40);
  assert.ok(BigInt(ids.format(fresh, 'dec')) > 40n);
  assert.equal(ids.parse(ids.format(fresh, 'hex'), 'hex'), fresh);
  assert.equal(ledger.queuedPage(0, fresh, 100).length, 31, 'old and new queued messages page in id order');
});

test('ids survive a restart and a second allocator on the database never repeats a row', (t) => {
  const h = tmpDb(t);
  const first = messageIdsFor(h.db, { node: 0 });
  const ledger = new Ledger(h.db, { nextId: () => first.next() });
  const a = ledger.insert(msg());
  const again = messageIdsFor(h.reopen(), { node: 0 });
  const b = again.next();
  assert.ok(b > a);
  assert.equal(again.format(a, 'dec'), first.format(a, 'dec'), "the key is the database's");
});
