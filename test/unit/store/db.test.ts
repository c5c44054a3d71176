// openDb and the schema: a file it creates is 0600 (so are its WAL companions), the directory 0700,
// the journal is WAL, migrations run once and are a no-op on reopen, and a file from a newer
// smppgw is refused rather than written to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigration, bumpConfigVersion, configVersion, migrate, openDb } from '../../../src/store/db.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { tmpDb, tmpDbPath } from '../../helpers/tmpdb.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

const TABLES = ['accounts', 'config_version', 'connectors', 'messages', 'meta', 'mo_routes', 'mt_routes', 'outbox', 'parked_receipts'];

function tables(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
}

test('a new file is created with mode 0600 in a new directory with mode 0700', (t) => {
  const p = tmpDbPath(t);
  const path = join(p.dir, 'nested', 'deeper', 'gw.db');
  const db = openDb(path, { create: true });
  t.after(() => db.close());
  assert.equal(mode(path), 0o600);
  assert.equal(mode(join(p.dir, 'nested', 'deeper')), 0o700);
  assert.equal(mode(join(p.dir, 'nested')), 0o700);
});

test('only a file created here is chmodded: an existing one keeps the mode the operator gave it', (t) => {
  const p = tmpDbPath(t);
  writeFileSync(p.path, '');
  chmodSync(p.path, 0o640);
  const db = openDb(p.path, { create: true });
  t.after(() => db.close());
  assert.equal(mode(p.path), 0o640);
});

test('the WAL and shared-memory files are not readable by others either', (t) => {
  const { db, path } = tmpDb(t);
  db.prepare('INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES (?, ?, 0, 0)').run('a', 'h');
  assert.ok(existsSync(`${path}-wal`), 'a WAL file exists while the connection is open');
  assert.equal(mode(`${path}-wal`), 0o600);
  assert.equal(mode(`${path}-shm`), 0o600);
});

test('the journal is WAL, foreign keys on, busy timeout set, synchronous FULL by default and NORMAL on request', (t) => {
  const p = tmpDbPath(t);
  const full = openDb(p.path, { create: true });
  t.after(() => full.close());
  assert.equal(full.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(full.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(full.pragma('busy_timeout', { simple: true }), 5000);
  assert.equal(full.pragma('synchronous', { simple: true }), 2); // FULL
  const normal = openDb(p.path, { synchronous: 'normal' });
  t.after(() => normal.close());
  assert.equal(normal.pragma('synchronous', { simple: true }), 1); // NORMAL
  // WAL lets a second connection read while the first holds a write transaction open.
  full.exec('BEGIN IMMEDIATE');
  full.prepare('INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES (?, ?, 0, 0)').run('x', 'h');
  assert.equal(normal.prepare('SELECT COUNT(*) FROM accounts').pluck().get(), 0, 'the reader sees the last commit, not the open transaction');
  full.exec('COMMIT');
  assert.equal(normal.prepare('SELECT COUNT(*) FROM accounts').pluck().get(), 1);
});

test('a new file is migrated to the latest version with every table', (t) => {
  const { db } = tmpDb(t);
  assert.ok(MIGRATIONS.length >= 1);
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.deepEqual(tables(db), TABLES);
  assert.equal(configVersion(db), 0);
});

test('reopening does not run the migrations again and keeps the data', (t) => {
  const p = tmpDbPath(t);
  const first = openDb(p.path, { create: true });
  first.prepare('INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES (?, ?, 0, 0)').run('keep', 'h');
  bumpConfigVersion(first);
  first.close();
  const second = openDb(p.path);
  t.after(() => second.close());
  assert.equal(second.pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.equal(second.prepare('SELECT system_id FROM accounts').pluck().get(), 'keep');
  assert.equal(configVersion(second), 1, 'config_version still has its single row, not a second one');
  assert.equal(second.prepare('SELECT COUNT(*) FROM config_version').pluck().get(), 1);
  // migrate() on an up-to-date file is a no-op.
  assert.equal(migrate(second), MIGRATIONS.length);
  assert.deepEqual(tables(second), TABLES);
});

test('a file with a newer schema version is refused and left untouched', (t) => {
  const p = tmpDbPath(t);
  openDb(p.path, { create: true }).close();
  const raw = new Database(p.path);
  raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  raw.close();
  assert.throws(
    () => openDb(p.path),
    (err: Error) => {
      assert.match(err.message, /newer/);
      assert.match(err.message, new RegExp(`version ${MIGRATIONS.length + 1}`));
      assert.match(err.message, /upgrade smppgw/);
      return true;
    },
  );
  const check = new Database(p.path, { readonly: true });
  t.after(() => check.close());
  assert.equal(check.pragma('user_version', { simple: true }), MIGRATIONS.length + 1);
});

test('a failing migration step is rolled back whole, user_version included', (t) => {
  const p = tmpDbPath(t);
  const raw = new Database(p.path);
  t.after(() => raw.close());
  // Make step 1 fail half way: one of the tables it creates already exists.
  raw.exec('CREATE TABLE outbox (x INTEGER)');
  assert.throws(() => migrate(raw), /already exists/);
  assert.equal(raw.pragma('user_version', { simple: true }), 0);
  assert.deepEqual(tables(raw), ['outbox'], 'no table of the failed step survives');
});

test('readonly: needs an existing file, does not migrate, refuses writes', (t) => {
  const p = tmpDbPath(t);
  assert.throws(() => openDb(p.path, { readonly: true }));
  assert.equal(existsSync(p.path), false, 'a readonly open does not create the file');
  const rw = openDb(p.path, { create: true });
  bumpConfigVersion(rw);
  rw.close();
  const ro = openDb(p.path, { readonly: true });
  t.after(() => ro.close());
  assert.equal(configVersion(ro), 1);
  assert.throws(() => bumpConfigVersion(ro), /readonly/);
});

test('configVersion counts bumps, shared between connections', (t) => {
  const { db, reopen } = tmpDb(t);
  const other = reopen();
  assert.equal(configVersion(other), 0);
  bumpConfigVersion(db);
  bumpConfigVersion(db);
  bumpConfigVersion(db);
  assert.equal(configVersion(other), 3);
});

test('schema: STRICT tables and CHECK constraints refuse bad rows', (t) => {
  const { db } = tmpDb(t);
  assert.throws(
    () => db.prepare("INSERT INTO accounts (system_id, password_hash, id_format, created_at, updated_at) VALUES ('a', 'h', 'oct', 0, 0)").run(),
    /CHECK/,
  );
  assert.throws(
    () => db.prepare("INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES ('a', 'h', 'yesterday', 0)").run(),
    /cannot store TEXT value in INTEGER column/,
  );
  assert.throws(
    () =>
      db.prepare("INSERT INTO connectors (id, host, port, system_id, password, bind, created_at, updated_at) VALUES ('c', 'h', 1, 's', 'p', 'tx', 0, 0)").run(),
    /CHECK/,
  );
  assert.throws(
    () =>
      db
        .prepare("INSERT INTO connectors (id, host, port, system_id, password, dlr_id, created_at, updated_at) VALUES ('c', 'h', 1, 's', 'p', 'oct', 0, 0)")
        .run(),
    /CHECK/,
  );
  assert.throws(
    () =>
      db
        .prepare(
          "INSERT INTO connectors (id, host, port, system_id, password, on_timeout, created_at, updated_at) VALUES ('c', 'h', 1, 's', 'p', 'drop', 0, 0)",
        )
        .run(),
    /CHECK/,
  );
  assert.throws(() => db.prepare("INSERT INTO mt_routes (kind, connectors, created_at) VALUES ('random', 'c', 0)").run(), /CHECK/);
  assert.throws(
    () =>
      db
        .prepare(
          "INSERT INTO outbox (account_id, kind, source_addr, dest_addr, body, next_at, expires_at, created_at) VALUES (1, 'sms', '', '', x'00', 0, 0, 0)",
        )
        .run(),
    /CHECK/,
  );
  // Defaults of an account row.
  db.prepare("INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES ('d', 'h', 0, 0)").run();
  assert.deepEqual(db.prepare("SELECT tps, window, max_binds, allow, bind_types, id_format, enabled FROM accounts WHERE system_id = 'd'").get(), {
    tps: 0,
    window: 10,
    max_binds: 4,
    allow: '',
    bind_types: 'tx,rx,trx',
    id_format: 'hex',
    enabled: 1,
  });
});

test('schema: message ids are never reused, even after the newest row is deleted', (t) => {
  const { db } = tmpDb(t);
  const ins = db.prepare(
    "INSERT INTO messages (account_id, source_addr, dest_addr, registered_delivery, pdu, connectors, state, next_at, expires_at, submitted_at) VALUES (1, 's', 'd', 0, x'00', 'c', 0, 0, 0, 0)",
  );
  const first = Number(ins.run().lastInsertRowid);
  db.prepare('DELETE FROM messages WHERE id = ?').run(first);
  const second = Number(ins.run().lastInsertRowid);
  assert.ok(second > first, `id ${second} after deleting ${first}`);
});

test('schema 5: connectors of a version 4 file get on_timeout = reconnect', (t) => {
  const p = tmpDbPath(t);
  const old = new Database(p.path);
  for (let v = 0; v < 4; v++) applyMigration(old, MIGRATIONS[v]!);
  old.pragma('user_version = 4');
  old.prepare("INSERT INTO connectors (id, host, port, system_id, password, created_at, updated_at) VALUES ('c', 'h', 1, 's', 'p', 0, 0)").run();
  old.close();
  const db = openDb(p.path);
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.equal(db.prepare("SELECT on_timeout FROM connectors WHERE id = 'c'").pluck().get(), 'reconnect');
});
