// Backup and restore of the database file: a verified copy while a writer keeps committing, no
// overwrite without force; a restore that checks what it is given, refuses while the database is
// held, keeps the database it replaces, and leaves no stale -wal/-shm beside the restored one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../../src/errors.js';
import { backupDatabase, restoreDatabase } from '../../../src/store/backup.js';
import { openDb } from '../../../src/store/db.js';
import { StoreLock } from '../../../src/store/lock.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { damagePages } from '../../helpers/damage.js';
import { tmpDb } from '../../helpers/tmpdb.js';

const require = createRequire(import.meta.url);
const mode = (path: string): number => statSync(path).mode & 0o777;
const code = (c: string) => (err: unknown) => {
  assert.ok(err instanceof StoreError, String(err));
  assert.equal(err.code, c, err.message);
  return true;
};

function addAccounts(db: Database.Database, from: number, n: number): void {
  const ins = db.prepare('INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES (?, ?, 0, 0)');
  db.transaction(() => {
    for (let i = from; i < from + n; i++) ins.run(`a${i}`, 'x'.repeat(200));
  })();
}

const accounts = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM accounts').pluck().get() as number;
  } finally {
    db.close();
  }
};

test('backup: a verified 0600 copy holding every commit made before it, taken while another connection keeps writing', async (t) => {
  const { db, path, dir } = tmpDb(t);
  addAccounts(db, 0, 3_000); // in the -wal, not yet in the main file: what `cp` would miss
  const file = join(dir, 'backup.db');
  // Keep committing from this process's other connection while the backup runs.
  const writer = new Database(path);
  t.after(() => writer.close());
  let n = 3_000;
  const timer = setInterval(() => addAccounts(writer, (n += 10) - 10, 10), 1);
  let result: Awaited<ReturnType<typeof backupDatabase>>;
  try {
    result = await backupDatabase(path, file);
  } finally {
    clearInterval(timer);
  }
  assert.equal(result.path, file);
  assert.equal(result.version, MIGRATIONS.length);
  assert.ok(accounts(file) >= 3_000, 'every account committed before the backup began');
  assert.equal(mode(file), 0o600, 'a backup holds password hashes: not readable by others');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('backup.db')),
    ['backup.db'],
    'no temp file or -wal left',
  );
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
  check.close();
});

test('backup: refuses an existing file without --force, the database itself, and a missing directory; a missing database creates nothing', async (t) => {
  const { db, path, dir } = tmpDb(t);
  addAccounts(db, 0, 5);
  const file = join(dir, 'backup.db');
  writeFileSync(file, 'precious');
  await assert.rejects(backupDatabase(path, file), code('STORE_EXISTS'));
  assert.equal(accounts(path), 5);
  await assert.rejects(backupDatabase(path, path), /the database itself/);
  await assert.rejects(backupDatabase(path, join(dir, 'no', 'such', 'dir', 'b.db')), code('STORE_CANNOT_CREATE'));
  const r = await backupDatabase(path, file, { force: true });
  assert.equal(accounts(r.path), 5);
  const missing = join(dir, 'typo.db');
  await assert.rejects(backupDatabase(missing, join(dir, 'b2.db')), code('STORE_MISSING'));
  assert.equal(existsSync(missing), false);
  assert.equal(existsSync(join(dir, 'b2.db')), false);
});

test('restore: puts the backup in place, keeps the replaced database whole (commits left in its -wal included), removes the -wal and -shm', async (t) => {
  const { db, path, dir } = tmpDb(t);
  addAccounts(db, 0, 10);
  const file = join(dir, 'backup.db');
  await backupDatabase(path, file);
  addAccounts(db, 10, 5); // after the backup: only in the database being replaced
  db.close();
  // A daemon killed with its last commits still in the -wal (no checkpoint on close).
  const killed = spawnSync(
    process.execPath,
    [
      '-e',
      `
    const db = new (require(${JSON.stringify(require.resolve('better-sqlite3'))}))(${JSON.stringify(path)});
    db.pragma('wal_autocheckpoint = 0');
    const ins = db.prepare("INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES (?, 'h', 0, 0)");
    for (let i = 15; i < 20; i++) ins.run('a' + i);
    process.kill(process.pid, 'SIGKILL');
  `,
    ],
    { timeout: 20_000 },
  );
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(statSync(`${path}-wal`).size > 0, 'commits left in the -wal');
  const r = restoreDatabase(path, file);
  assert.equal(r.path, path);
  assert.equal(r.version, MIGRATIONS.length);
  assert.match(r.replaced!, /smppgw\.db\.replaced-\d{8}T\d{6}Z$/);
  assert.equal(accounts(path), 10, 'the restored database is the backup');
  assert.equal(accounts(r.replaced!), 20, 'the replaced one is kept whole, every commit');
  assert.equal(existsSync(`${path}-shm`), false);
  assert.equal(existsSync(`${path}-wal`), false);
  assert.equal(mode(path), 0o600);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('restoring')),
    [],
    'no temp file left',
  );
  const reopened = openDb(path);
  assert.equal(reopened.prepare('SELECT COUNT(*) FROM accounts').pluck().get(), 10);
  reopened.close();
  // Twice within a second: the second keeps the first's copy too, under another name.
  const again = restoreDatabase(path, file);
  assert.notEqual(again.replaced, r.replaced);
  assert.equal(accounts(r.replaced!), 20, 'the first copy set aside is still there');
  assert.equal(accounts(again.replaced!), 10);
});

test('restore: refused while the database is held (a daemon), and for a file that is missing, not smppgw, of a newer schema or damaged; the database is untouched', async (t) => {
  const { db, path, dir } = tmpDb(t);
  addAccounts(db, 0, 3);
  const file = join(dir, 'backup.db');
  await backupDatabase(path, file);
  db.close();

  const lock = StoreLock.acquire(path, { role: 'start', smppPort: 2775, httpPort: 8080 });
  assert.throws(
    () => restoreDatabase(path, file),
    (err: StoreError) => err.code === 'STORE_LOCKED' && /pid \d+/.test(err.message) && err.message.includes('SMPP port 2775'),
  );
  lock.release();

  assert.throws(() => restoreDatabase(path, join(dir, 'nope.db')), code('STORE_MISSING'));
  assert.throws(() => restoreDatabase(path, dir), code('STORE_NOT_FILE'));
  const text = join(dir, 'text.db');
  writeFileSync(text, 'hello\n'.repeat(200));
  assert.throws(() => restoreDatabase(path, text), code('STORE_FOREIGN'));
  const other = join(dir, 'other.db');
  const o = new Database(other);
  o.exec('CREATE TABLE t (x)');
  o.close();
  assert.throws(() => restoreDatabase(path, other), code('STORE_FOREIGN'));
  const newer = join(dir, 'newer.db');
  await backupDatabase(path, newer);
  const nw = new Database(newer);
  nw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  nw.close();
  assert.throws(() => restoreDatabase(path, newer), code('STORE_TOO_NEW'));
  const damaged = join(dir, 'damaged.db');
  const big = tmpDb(t);
  addAccounts(big.db, 0, 2_000);
  await backupDatabase(big.path, damaged);
  damagePages(damaged);
  assert.throws(() => restoreDatabase(path, damaged), code('STORE_DAMAGED'));

  assert.equal(accounts(path), 3, 'the database is as it was');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('replaced') || f.includes('restoring')),
    [],
  );
});
