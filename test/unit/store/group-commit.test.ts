// GroupCommit: the writes asked for in one event-loop turn share one transaction; each caller's
// promise settles only after the commit; a failing write rejects alone, its own writes undone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { tmpDb } from '../../helpers/tmpdb.js';

function setup(t: Parameters<typeof tmpDb>[0]) {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const reader = h.reopen();
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  const values = (db = reader): number[] => db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all() as number[];
  return { ...h, gc: new GroupCommit(h.db), reader, insert, values };
}

test('100 writes issued in one turn share one commit, in issue order', async (t) => {
  const { gc, insert, values } = setup(t);
  const ps = Array.from({ length: 100 }, (_, i) => gc.run(() => Number(insert.run(i).lastInsertRowid)));
  assert.equal(gc.queued, 100);
  assert.equal(gc.commits, 0, 'nothing commits synchronously');
  const ids = await Promise.all(ps);
  assert.equal(gc.commits, 1);
  assert.equal(gc.writes, 100);
  assert.equal(gc.queued, 0);
  assert.deepEqual(
    ids,
    Array.from({ length: 100 }, (_, i) => i + 1),
    "each promise resolves with its own op's result",
  );
  assert.deepEqual(
    values(),
    Array.from({ length: 100 }, (_, i) => i),
  );
});

test('writes issued in different turns get their own commits', async (t) => {
  const { gc, insert, values } = setup(t);
  await gc.run(() => insert.run(1));
  await Promise.all([gc.run(() => insert.run(2)), gc.run(() => insert.run(3))]);
  await gc.run(() => insert.run(4));
  assert.equal(gc.commits, 3);
  assert.equal(gc.writes, 4);
  assert.deepEqual(values(), [1, 2, 3, 4]);
});

test('a result is resolved only after the commit: another connection sees the write inside .then', async (t) => {
  const { gc, insert, reader, values } = setup(t);
  const seen: number[][] = [];
  const p1 = gc.run(() => insert.run(7)).then(() => seen.push(values(reader)));
  const p2 = gc
    .run(() => {
      insert.run(8);
      // Inside the transaction: the other connection does not see this batch yet.
      seen.push(values(reader));
      return 'done';
    })
    .then((r) => {
      seen.push(values(reader));
      return r;
    });
  assert.equal(await p2, 'done');
  await p1;
  assert.deepEqual(seen, [[], [7, 8], [7, 8]]);
});

test('a failing write rejects alone; its writes are rolled back, the others commit', async (t) => {
  const { gc, insert, values } = setup(t);
  const boom = new Error('boom');
  const results = await Promise.allSettled([
    gc.run(() => insert.run(1)),
    gc.run(() => {
      insert.run(2);
      insert.run(3);
      throw boom;
    }),
    gc.run(() => insert.run(4)),
    gc.run(() => insert.run(null as unknown as number)), // NOT NULL constraint
    gc.run(() => 'five'),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal((results[1] as PromiseRejectedResult).reason, boom, "rejected with the op's own error");
  assert.match(String((results[3] as PromiseRejectedResult).reason), /NOT NULL/);
  assert.equal((results[4] as PromiseFulfilledResult<string>).value, 'five');
  assert.deepEqual(values(), [1, 4]);
  assert.equal(gc.commits, 1);
});

test('a failed commit rejects every write of the batch and keeps none of them', async (t) => {
  const { gc, db, insert, values } = setup(t);
  // A deferred foreign key is only checked at COMMIT: every op succeeds, the commit fails.
  db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)');
  const results = await Promise.allSettled([
    gc.run(() => insert.run(1)),
    gc.run(() => db.prepare('INSERT INTO child (p) VALUES (99)').run()),
    gc.run(() => insert.run(2)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  );
  for (const r of results) assert.match(String((r as PromiseRejectedResult).reason), /FOREIGN KEY/);
  assert.deepEqual(values(), []);
  assert.equal(db.inTransaction, false);
  assert.equal(gc.commits, 0);
  // The next batch works.
  await gc.run(() => insert.run(3));
  assert.deepEqual(values(), [3]);
  assert.equal(gc.commits, 1);
});

test('a write that aborts the whole transaction does not let later writes autocommit', async (t) => {
  const { gc, db, insert, values } = setup(t);
  db.exec("CREATE TRIGGER abort13 BEFORE INSERT ON t WHEN NEW.v = 13 BEGIN SELECT RAISE(ROLLBACK, 'thirteen'); END");
  const results = await Promise.allSettled([1, 2, 13, 4, 5].map((v) => gc.run(() => insert.run(v))));
  const status = results.map((r) => r.status);
  const stored = values();
  // Whatever the promises say must match what is durable: a rejected write is not in the file.
  for (const [i, v] of [1, 2, 13, 4, 5].entries()) {
    assert.equal(stored.includes(v), status[i] === 'fulfilled', `value ${v}: promise ${status[i]}, stored ${stored.includes(v)}`);
  }
});

test('flush() commits what is queued at once, and the scheduled flush then finds nothing', async (t) => {
  const { gc, insert, values } = setup(t);
  const p = gc.run(() => insert.run(1));
  gc.flush();
  assert.equal(gc.commits, 1);
  assert.deepEqual(values(), [1], 'committed synchronously by flush');
  await p;
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(gc.commits, 1, 'the empty scheduled flush is not counted');
  gc.flush();
  assert.equal(gc.commits, 1);
});

test('a write issued from inside a write goes into the next commit', async (t) => {
  const { gc, insert, values } = setup(t);
  let inner: Promise<unknown> | undefined;
  await gc.run(() => {
    insert.run(1);
    inner = gc.run(() => insert.run(2));
  });
  assert.equal(gc.commits, 1);
  assert.deepEqual(values(), [1]);
  await inner;
  assert.equal(gc.commits, 2);
  assert.deepEqual(values(), [1, 2]);
});

test('writes issued from .then callbacks of one batch share the following commit', async (t) => {
  const { gc, insert, values } = setup(t);
  const second: Array<Promise<unknown>> = [];
  await Promise.all([1, 2, 3].map((v) => gc.run(() => insert.run(v)).then(() => second.push(gc.run(() => insert.run(v * 10))))));
  await Promise.all(second);
  assert.equal(gc.commits, 2);
  assert.deepEqual(values(), [1, 2, 3, 10, 20, 30]);
});

// With walFile: SQLite runs NORMAL and the WAL is fsynced on the thread pool before anything settles.

test('with walFile, a write settles only after a WAL flush; commits made during a flush share the next one', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  const reader = h.reopen();
  const gc = new GroupCommit(h.db, { walFile: `${h.path}-wal` });
  const first = gc.run(() => insert.run(0));
  gc.flush(); // commits now and starts the flush
  assert.equal(gc.unflushed, 1, 'committed, not settled before the flush');
  // Ten turns' worth of writes while that flush runs (flush() is what each turn's timer calls):
  // each commits at once (another connection sees it), and all wait for the next flush.
  const settled: number[] = [];
  const rest: Array<Promise<unknown>> = [];
  for (let v = 1; v <= 10; v++) {
    rest.push(gc.run(() => insert.run(v)).then(() => settled.push(v)));
    gc.flush();
  }
  assert.equal(gc.commits, 11);
  assert.equal(reader.prepare('SELECT COUNT(*) FROM t').pluck().get(), 11, 'committed while the flush runs');
  assert.equal(gc.unflushed, 11);
  await Promise.all([first, ...rest]);
  assert.deepEqual(settled, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'settled in commit order');
  assert.equal(gc.syncs, 2, 'the ten shared the second flush');
  assert.equal(gc.unflushed, 0);
  await gc.close();
});

test('with walFile, drain() resolves only once every commit so far is flushed', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  const gc = new GroupCommit(h.db, { walFile: `${h.path}-wal` });
  let settled = 0;
  for (let i = 0; i < 50; i++) void gc.run(() => insert.run(i)).then(() => settled++);
  await gc.drain();
  assert.equal(gc.commits, 1, 'drain commits what is queued');
  assert.equal(gc.unflushed, 0);
  await Promise.resolve(); // the .then callbacks above run after drain's own resolution
  assert.equal(settled, 50);
  await gc.drain(); // nothing pending: resolves at once
});

test('with walFile, a failed flush rejects the batch and reports the error (the gateway exits on it)', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  const errors: Error[] = [];
  const gc = new GroupCommit(h.db, { walFile: `${h.dir}/no-such-dir/x-wal`, onSyncError: (err) => errors.push(err) });
  const r = await Promise.allSettled([gc.run(() => insert.run(1)), gc.run(() => insert.run(2))]);
  assert.deepEqual(
    r.map((x) => x.status),
    ['rejected', 'rejected'],
  );
  assert.match(String((r[0] as PromiseRejectedResult).reason), /ENOENT/);
  assert.equal(errors.length, 1);
  await gc.close();
});
