// Which files the store opens and creates: admin use opens only an existing smppgw database
// (creating and chmodding nothing, whatever the path names); the daemon creates one on a first
// start only, refuses where traces show one was deleted (unless init), and refuses a damaged file.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../../src/errors.js';
import { openDb } from '../../../src/store/db.js';
import { lockPath } from '../../../src/store/lock.js';
import { openStore } from '../../../src/store/open.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import { damagePages } from '../../helpers/damage.js';
import { tmpDbPath } from '../../helpers/tmpdb.js';

const mode = (path: string): number => statSync(path).mode & 0o777;
const code = (c: string) => (err: unknown) => {
  assert.ok(err instanceof StoreError, String(err));
  assert.equal(err.code, c, err.message);
  return true;
};
const HOLDER = { role: 'start' };

test('without create: a missing path, a directory, a symlink to one, a non-database file and an empty file are refused; nothing is created or chmodded', (t) => {
  const p = tmpDbPath(t);
  assert.throws(() => openDb(join(p.dir, 'typo', 'gw.db')), code('STORE_MISSING'));
  assert.deepEqual(readdirSync(p.dir), [], 'no directory, no file');
  assert.throws(
    () => openDb(join(p.dir, 'gw.db')),
    (err: Error) => err.message.includes(join(p.dir, 'gw.db')),
  );
  const dir = join(p.dir, 'data');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  assert.throws(() => openDb(dir), code('STORE_NOT_FILE'));
  symlinkSync(dir, join(p.dir, 'link.db'));
  assert.throws(() => openDb(join(p.dir, 'link.db')), code('STORE_NOT_FILE'));
  assert.equal(mode(dir), 0o755, 'the directory keeps its mode');
  const text = join(p.dir, 'notes.txt');
  writeFileSync(text, 'not a database at all, but long enough to have a header of sorts\n'.repeat(10), { mode: 0o644 });
  chmodSync(text, 0o644);
  assert.throws(() => openDb(text), code('STORE_FOREIGN'));
  assert.equal(mode(text), 0o644, 'the file keeps its mode');
  const empty = join(p.dir, 'empty.db');
  writeFileSync(empty, '');
  assert.throws(
    () => openDb(empty),
    (err: StoreError) => err.code === 'STORE_FOREIGN' && /not initialised/.test(err.message),
  );
  assert.deepEqual(readdirSync(p.dir).sort(), ['data', 'empty.db', 'link.db', 'notes.txt'], 'no -wal, -shm or lock file left');
});

test('a database of another program, or of a newer smppgw, is refused by name', (t) => {
  const p = tmpDbPath(t);
  const other = new Database(p.path);
  other.exec('CREATE TABLE songs (title TEXT)');
  other.close();
  assert.throws(
    () => openDb(p.path),
    (err: StoreError) => err.code === 'STORE_FOREIGN' && err.message.includes('songs'),
  );
  assert.throws(() => openDb(p.path, { create: true }), code('STORE_FOREIGN'));
  const q = tmpDbPath(t);
  openDb(q.path, { create: true }).close();
  const raw = new Database(q.path);
  raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  raw.close();
  assert.throws(
    () => openDb(q.path),
    (err: StoreError) => err.code === 'STORE_TOO_NEW' && /upgrade smppgw/.test(err.message),
  );
});

test('create: a path under /proc, or under a file, is an error at once, not a loop', (t) => {
  const p = tmpDbPath(t);
  assert.throws(() => openDb('/proc/nope/x.db', { create: true }), code('STORE_CANNOT_CREATE'));
  writeFileSync(join(p.dir, 'file'), 'x');
  assert.throws(() => openDb(join(p.dir, 'file', 'sub', 'x.db'), { create: true }), code('STORE_CANNOT_CREATE'));
  assert.throws(() => openStore('/proc/nope/x.db', { holder: HOLDER }), code('STORE_CANNOT_CREATE'));
});

test('openStore: a first start creates the database 0600 in new directories 0700 and holds the lock until close', (t) => {
  const p = tmpDbPath(t);
  const path = join(p.dir, 'a', 'b', 'gw.db');
  const store = openStore(path, { holder: HOLDER });
  assert.equal(store.created, true);
  assert.equal(store.path, path);
  assert.equal(mode(path), 0o600);
  assert.equal(mode(join(p.dir, 'a')), 0o700);
  assert.equal(mode(join(p.dir, 'a', 'b')), 0o700);
  assert.throws(() => openStore(path, { holder: HOLDER }), code('STORE_LOCKED'));
  store.close();
  const again = openStore(path, { holder: HOLDER });
  assert.equal(again.created, false);
  again.close();
});

test('openStore: no database but its lock file, -wal or -shm: refused unless init, which keeps the traces aside', (t) => {
  for (const trace of ['.lock', '-wal', '-shm']) {
    const p = tmpDbPath(t);
    if (trace === '.lock') openStore(p.path, { holder: HOLDER }).close();
    else writeFileSync(`${p.path}${trace}`, 'left over');
    if (trace === '.lock') for (const f of readdirSync(p.dir)) if (f === 'smppgw.db' || f.startsWith('smppgw.db-')) rmSync(join(p.dir, f));
    assert.throws(
      () => openStore(p.path, { holder: HOLDER }),
      (err: StoreError) => {
        assert.equal(err.code, 'STORE_GONE');
        assert.ok(err.message.includes(`${p.path}${trace}`), err.message);
        assert.match(err.message, /restore a backup .* or start empty with --init/);
        return true;
      },
    );
    assert.equal(existsSync(p.path), false, `${trace}: nothing created`);
    const store = openStore(p.path, { init: true, holder: HOLDER });
    assert.equal(store.created, true);
    if (trace !== '.lock') {
      assert.equal(store.setAside.length, 1);
      assert.match(store.setAside[0]!, new RegExp(`smppgw\\.db${trace}\\.orphaned-\\d{8}T\\d{6}Z$`));
      assert.ok(existsSync(store.setAside[0]!), 'kept, not deleted');
    }
    store.close();
  }
});

test('openStore: a failed first start leaves no lock file behind to be mistaken for a trace, and creates nothing through a symlink', (t) => {
  const p = tmpDbPath(t);
  // A dangling symlink where the database should be: the exclusive create refuses to follow it.
  symlinkSync(join(p.dir, 'elsewhere.db'), p.path);
  assert.throws(() => openStore(p.path, { holder: HOLDER }), code('STORE_EXISTS'));
  assert.equal(existsSync(join(p.dir, 'elsewhere.db')), false, 'nothing created through the link');
  assert.equal(existsSync(lockPath(p.path)), false, 'the lock file made for it is gone again');
});

test('openStore: a damaged file is refused by quick_check, naming it', (t) => {
  const p = tmpDbPath(t);
  damagedDb(p.path);
  assert.throws(
    () => openStore(p.path, { holder: HOLDER }),
    (err: StoreError) => {
      assert.equal(err.code, 'STORE_DAMAGED');
      assert.ok(err.message.includes(p.path), err.message);
      assert.match(err.message, /smppgw restore/);
      return true;
    },
  );
  // Refused, and the lock let go.
  assert.throws(() => openStore(p.path, { holder: HOLDER }), code('STORE_DAMAGED'));
});

/** A database with data whose table pages are then overwritten with garbage. */
function damagedDb(path: string): void {
  const db = openDb(path, { create: true });
  const ins = db.prepare('INSERT INTO accounts (system_id, password_hash, created_at, updated_at) VALUES (?, ?, 0, 0)');
  db.transaction(() => {
    for (let i = 0; i < 2_000; i++) ins.run(`acct${i}`, 'x'.repeat(100));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  damagePages(path);
}
