// StoreWatch: the database path compared with the file opened at start (gone, replaced), the WAL's
// size; rescue(): what the open connection still reads, written beside the path with the online
// backup, even once the file is deleted.
import assert from 'node:assert/strict';
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { silentLogger } from '../../../src/log.js';
import { StoreWatch, rescue, rescueStamp, type LostHow } from '../../../src/store/watch.js';
import { tmpDb } from '../../helpers/tmpdb.js';
import { waitFor } from '../../helpers/wait.js';

function watch(path: string) {
  const lost: LostHow[] = [];
  const wal: number[] = [];
  const w = new StoreWatch({ path, logger: silentLogger, onLost: (how) => lost.push(how), onWalBytes: (n) => wal.push(n) });
  return { w, lost, wal };
}

test('a path that still names the open file is not lost; the WAL size is reported each tick', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v BLOB)');
  h.db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(10_000));
  const { w, lost, wal } = watch(h.path);
  w.tick();
  await waitFor(() => wal.length === 1, 'a tick');
  assert.deepEqual(lost, []);
  assert.equal(wal[0], statSync(`${h.path}-wal`).size);
  assert.ok(wal[0]! > 10_000);
  w.stop();
});

test('the file deleted: lost (gone), once; the rescue holds every committed row; the stale WAL is removed after close', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER)');
  const insert = h.db.prepare('INSERT INTO t VALUES (?)');
  for (let i = 0; i < 100; i++) insert.run(i);
  const { w, lost } = watch(h.path);
  rmSync(h.path);
  for (let i = 100; i < 150; i++) insert.run(i); // SQLite goes on writing the unlinked inode
  w.tick();
  await waitFor(() => lost.length === 1, 'lost');
  assert.deepEqual(lost, ['gone']);
  w.tick(); // stopped: nothing more
  const at = new Date(Date.UTC(2026, 11, 4, 17, 5, 12, 345));
  assert.equal(rescueStamp(at), '20261204T170512Z');
  const rescued = await rescue(h.db, h.path, at);
  assert.equal(rescued, `${h.path}.rescued-20261204T170512Z`);
  assert.equal(statSync(rescued).mode & 0o777, 0o600);
  const r = new Database(rescued, { readonly: true });
  assert.equal(r.prepare('SELECT COUNT(*) FROM t').pluck().get(), 150, 'everything committed, also after the unlink');
  r.close();
  h.db.close();
  assert.ok(existsSync(`${h.path}-wal`), 'SQLite leaves the WAL of a moved database');
  const removed = w.removeStaleSidecars();
  assert.deepEqual(removed.sort(), [`${h.path}-shm`, `${h.path}-wal`]);
  assert.equal(existsSync(`${h.path}-wal`), false);
});

test('another file moved over the path: lost (replaced); files at the path that are not ours are left alone', async (t) => {
  const h = tmpDb(t);
  const { w, lost } = watch(h.path);
  writeFileSync(`${h.dir}/new.db`, '');
  renameSync(`${h.dir}/new.db`, h.path);
  w.tick();
  await waitFor(() => lost.length === 1, 'lost');
  assert.deepEqual(lost, ['replaced']);
  h.db.close();
  rmSync(`${h.path}-wal`, { force: true });
  writeFileSync(`${h.path}-wal`, "someone else's"); // not the inode we opened
  assert.deepEqual(w.removeStaleSidecars(), [`${h.path}-shm`]);
  assert.ok(existsSync(`${h.path}-wal`));
});
