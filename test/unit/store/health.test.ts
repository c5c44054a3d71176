// Store failures: named by one function, refused by GroupCommit as StoreUnavailableError (never a
// raw SQLite error), answered "cannot store now" (ESME_RMSGQFUL) by the submit path, retried off
// the event loop when another connection holds the write lock, and logged once per kind per
// interval. SQLITE_FULL comes from PRAGMA max_page_count on a temp database (the real full disk is
// test/e2e/store-full.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { SmppError } from '../../../src/smpp/errors.js';
import { SubmitHandler } from '../../../src/esme/submit.js';
import { Metrics } from '../../../src/metrics.js';
import type { MtRouter } from '../../../src/routing/mt.js';
import { ESME_RMSGQFUL } from '../../../src/smpp/defs.js';
import type { Session } from '../../../src/smpp/session.js';
import { Intake } from '../../../src/messages/intake.js';
import type { Account } from '../../../src/store/accounts.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { StoreHealth, StoreUnavailableError, storeFailure, type StoreFailure } from '../../../src/store/health.js';
import { Ledger } from '../../../src/store/ledger.js';
import { systemClock } from '../../../src/clock.js';
import { tmpDb } from '../../helpers/tmpdb.js';

/** A logger whose lines land in `lines` (parsed). */
function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

/** A database that cannot grow: every new page is SQLITE_FULL (page count fixed at what it has now). */
function full(db: import('better-sqlite3').Database): () => void {
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  return () => void db.pragma('max_page_count = 1073741823');
}

test('storeFailure names SQLite and system error codes; anything else is not a store failure', () => {
  const c = (code: string) => storeFailure(Object.assign(new Error(code), { code }));
  assert.equal(c('SQLITE_FULL'), 'full');
  assert.equal(c('ENOSPC'), 'full');
  assert.equal(c('SQLITE_BUSY'), 'busy');
  assert.equal(c('SQLITE_BUSY_SNAPSHOT'), 'busy');
  assert.equal(c('SQLITE_LOCKED'), 'busy');
  assert.equal(c('SQLITE_IOERR_WRITE'), 'io');
  assert.equal(c('SQLITE_IOERR_FSYNC'), 'io');
  assert.equal(c('SQLITE_READONLY_DBMOVED'), 'readonly');
  assert.equal(c('SQLITE_CONSTRAINT_NOTNULL'), undefined);
  assert.equal(storeFailure(new Error('boom')), undefined);
  assert.equal(storeFailure(new StoreUnavailableError('lost')), 'lost');
});

test('SQLITE_FULL: every write of the batch rejects with StoreUnavailableError(full), not ready until a commit succeeds', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v BLOB NOT NULL)');
  const counted: StoreFailure[] = [];
  const changes: boolean[] = [];
  const { logger } = capture();
  const health = new StoreHealth({ logger, count: (r) => counted.push(r), onChange: (f) => changes.push(f) });
  const gc = new GroupCommit(h.db, { health });
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  const big = Buffer.alloc(8192, 1); // more than a page: the table must grow
  const unfull = full(h.db);
  const results = await Promise.allSettled([gc.run(() => insert.run(big)), gc.run(() => insert.run(big))]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const err = (r as PromiseRejectedResult).reason as StoreUnavailableError;
    assert.ok(err instanceof StoreUnavailableError, `a StoreUnavailableError, not ${String(err)}`);
    assert.equal(err.reason, 'full');
    assert.equal(err.code, 'STORE_UNAVAILABLE');
  }
  assert.equal(health.ok, false);
  assert.equal(health.reason, 'full');
  assert.deepEqual(counted, ['full'], 'one failed commit, counted once');
  assert.equal(h.db.inTransaction, false);
  unfull();
  await gc.run(() => insert.run(big));
  assert.equal(health.ok, true, 'ready again after the first commit that succeeds');
  assert.deepEqual(changes, [true, false]);
  assert.equal(h.db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 1, 'only the write after the disk had room');
});

test('a real fault (a constraint) still rejects with its own error and leaves the store healthy', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const health = new StoreHealth({ logger: capture().logger });
  const gc = new GroupCommit(h.db, { health });
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  const r = await Promise.allSettled([gc.run(() => insert.run(1)), gc.run(() => insert.run(null as unknown as number))]);
  assert.equal(r[0]!.status, 'fulfilled');
  assert.match(String((r[1] as PromiseRejectedResult).reason), /NOT NULL/);
  assert.ok(!((r[1] as PromiseRejectedResult).reason instanceof StoreUnavailableError));
  assert.equal(health.ok, true);
});

test('one log line per kind of failure per interval, with the count of those suppressed; never a stack', async () => {
  const { logger, lines } = capture();
  let now = 0;
  const health = new StoreHealth({ logger, now: () => now, logEveryMs: 10_000 });
  const err = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  for (let i = 0; i < 10_000; i++) health.failed('full', err);
  health.failed('busy', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }));
  now = 10_001;
  health.failed('full', err);
  const errors = lines.filter((l) => l.level === 50);
  assert.equal(errors.length, 3, JSON.stringify(errors));
  assert.deepEqual(
    errors.map((l) => [l.reason, l.suppressed]),
    [
      ['full', 0],
      ['busy', 0],
      ['full', 9_999],
    ],
  );
  assert.equal(errors[0]!.code, 'SQLITE_FULL');
  for (const l of lines) assert.doesNotMatch(JSON.stringify(l), /\bat .*\.js:\d+/, 'no stack trace');
  health.committed();
  assert.equal(health.ok, true);
  assert.ok(lines.some((l) => l.msg === 'store commits again; ready'));
});

test('the submit path answers a full store ESME_RMSGQFUL (0x14, "cannot store now"), and accepts again once it has room', async (t) => {
  const h = tmpDb(t);
  const metrics = new Metrics();
  const health = new StoreHealth({ logger: capture().logger, count: (reason) => metrics.storeErrors.inc({ reason }) });
  const gc = new GroupCommit(h.db, { health });
  const accepted: number[] = [];
  const account: Account = {
    id: 1,
    systemId: 'acme',
    passwordHash: '',
    tps: 0,
    window: 100,
    maxBinds: 1,
    allow: [],
    bindTypes: ['trx'],
    idFormat: 'dec',
    maxPriority: 0,
    dc0: 'gsm',
    fold: false,
    maxParts: 10,
    enabled: true,
  };
  const intake = new Intake({
    clock: systemClock,
    commit: gc,
    ledger: new Ledger(h.db),
    metrics,
    carrier: { accept: (m: { id: number }) => accepted.push(m.id) },
    account: () => account,
    router: () => ({ route: () => ({ routeId: 1, connectors: ['c1'] }) }) as unknown as MtRouter,
    defaultValidityMs: 60_000,
    maxPduSize: 4096,
  });
  const submits = new SubmitHandler({ clock: systemClock, intake, metrics, account: () => account, formatId: (id) => String(id), noRouteStatus: 0x0b });
  const session = { context: { accountId: 1, systemId: 'acme', open: 0 } } as unknown as Session;
  const sm = (i: number) =>
    ({
      command: 'submit_sm',
      sequence_number: i + 1,
      service_type: '',
      source_addr_ton: 0,
      source_addr_npi: 0,
      source_addr: 'SHOP',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: `4917000${i}`,
      esm_class: 0,
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.alloc(140, 0x41),
    }) as never;
  const unfull = full(h.db);
  const refused = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => submits.submit(sm(i), session)));
  for (const r of refused) {
    assert.equal(r.status, 'rejected');
    const err = (r as PromiseRejectedResult).reason as SmppError;
    assert.ok(err instanceof SmppError, `an SmppError (answered with its status), not ${String(err)}`);
    assert.equal(err.status, ESME_RMSGQFUL);
  }
  assert.deepEqual(accepted, []);
  assert.match(await metrics.registry.getSingleMetricAsString('smppgw_store_errors_total'), /reason="full"\} 1/);
  assert.match(await metrics.registry.getSingleMetricAsString('smppgw_esme_submits_total'), /status="ESME_RMSGQFUL"\} 20/);
  unfull();
  const ok = await submits.submit(sm(99), session);
  assert.equal(typeof ok.message_id, 'string');
  assert.equal(accepted.length, 1);
  assert.equal(health.ok, true);
});

test("a commit meeting another connection's write lock is retried from a timer (the event loop runs meanwhile) and commits once the lock goes", async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  h.db.pragma('busy_timeout = 0'); // as the gateway runs it
  const other = h.reopen();
  const health = new StoreHealth({ logger: capture().logger });
  const gc = new GroupCommit(h.db, { health, busyLimitMs: 5_000 });
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  other.exec('BEGIN IMMEDIATE');
  let settled = false;
  const write = gc.run(() => insert.run(1)).finally(() => (settled = true));
  // Timers fire while the write waits for the lock: nothing sleeps on the event loop.
  let ticks = 0;
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10)).then(() => ticks++);
  assert.equal(ticks, 5);
  assert.equal(settled, false, 'still waiting for the lock');
  assert.ok(gc.busyRetries > 0, 'tried again');
  const second = gc.run(() => insert.run(2)); // joins the waiting batch
  other.exec('COMMIT');
  await Promise.all([write, second]);
  assert.deepEqual(other.prepare('SELECT v FROM t ORDER BY v').pluck().all(), [1, 2]);
  assert.equal(health.ok, true);
});

test('a write still locked out after busyLimitMs is refused as busy (StoreUnavailableError); drain() waits for the retries', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  h.db.pragma('busy_timeout = 0');
  const other = h.reopen();
  const counted: StoreFailure[] = [];
  const health = new StoreHealth({ logger: capture().logger, count: (r) => counted.push(r) });
  const gc = new GroupCommit(h.db, { health, busyLimitMs: 100 });
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  other.exec('BEGIN IMMEDIATE');
  const r = await Promise.allSettled([gc.run(() => insert.run(1)), gc.run(() => insert.run(2))]);
  for (const x of r) {
    assert.equal(x.status, 'rejected');
    assert.equal(((x as PromiseRejectedResult).reason as StoreUnavailableError).reason, 'busy');
  }
  assert.deepEqual(counted, ['busy']);
  assert.equal(health.reason, 'busy');
  const later = gc.run(() => insert.run(3));
  const drained = gc.drain();
  other.exec('COMMIT');
  await drained;
  await later;
  assert.equal(health.ok, true);
  assert.deepEqual(other.prepare('SELECT v FROM t').pluck().all(), [3]);
});

test('refuse(lost): queued and later writes reject with StoreUnavailableError(lost)', async (t) => {
  const h = tmpDb(t);
  h.db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const health = new StoreHealth({ logger: capture().logger });
  const gc = new GroupCommit(h.db, { health });
  const insert = h.db.prepare('INSERT INTO t (v) VALUES (?)');
  const queued = gc.run(() => insert.run(1));
  gc.refuse('lost');
  health.lose('gone');
  const later = gc.run(() => insert.run(2));
  for (const p of [queued, later]) await assert.rejects(p, (err: unknown) => err instanceof StoreUnavailableError && err.reason === 'lost');
  assert.equal(health.ok, false);
  assert.equal(health.reason, 'lost');
  assert.equal(h.db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 0);
});
