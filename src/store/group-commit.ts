// Group commit: every write asked for in one event-loop turn runs in one SQLite transaction, and
// each caller's promise settles only after that transaction is durable. Acknowledging a message
// then costs one shared commit per turn instead of one fsync per message.
//
// Durability without blocking the event loop: with `walFile` set, the database runs with
// synchronous=NORMAL (a commit writes its WAL frames but does not fsync) and this class fsyncs the
// WAL on libuv's thread pool, settling every commit made before that fsync began. That is exactly
// the sync synchronous=FULL adds in WAL mode (checkpoints still sync as they always do), but the
// event loop keeps reading sockets and committing while the disk flushes; the commits made
// meanwhile share the next flush. (Holding them back to commit them as one transaction after the
// flush saved no measurable CPU, and left the carrier ids of answered submits unwritten for the
// length of a flush: more messages sent twice after a crash.)
// A failing write rejects alone: the batch is then run again with each write in its own savepoint,
// so a write (a job) must only touch SQL; anything else waits for its promise.
//
// The event loop never waits for a lock: the daemon's connection runs with busy_timeout 0, so a
// batch meeting another process's write lock fails at once (SQLITE_BUSY) and is tried again from
// a timer after a short, growing delay, together with the writes asked for meanwhile. A write
// still not committed after `busyLimitMs` is refused. Every store failure (disk full, locked, I/O
// error, read-only, the file lost) rejects with StoreUnavailableError (health.ts), which callers
// answer as "cannot store now"; `health` hears of each failure and each success.
import type { Transaction } from 'better-sqlite3';
import { close, closeSync, fdatasync, fsync, open } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from './db.js';
import { StoreUnavailableError, asStoreError, storeFailure, type StoreFailure, type StoreHealth } from './health.js';

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Committed {
  jobs: Job[];
  results: Array<{ ok: boolean; value: unknown }>;
}

export interface GroupCommitOptions {
  /**
   * The database's WAL file: fsync it off the event loop before settling (the database must run
   * with synchronous=NORMAL). Unset: settle right after the commit (SQLite's own setting decides).
   */
  walFile?: string;
  /** The WAL could not be flushed: the writes of that batch were rejected; the process should stop. */
  onSyncError?: (err: Error) => void;
  /** Told of every failed and every successful commit (readiness, metrics, rate-limited logs). */
  health?: StoreHealth;
  /** How long a write may wait for another process's write lock before it is refused (default 1.5 s). */
  busyLimitMs?: number;
}

/** Writes of one batch that met a locked database, and when they first did. */
interface Waiting {
  jobs: Job[];
  since: number;
}

/** The first retry after SQLITE_BUSY waits this long; each next one twice as long, up to BUSY_MAX_DELAY_MS. */
const BUSY_FIRST_DELAY_MS = 2;
const BUSY_MAX_DELAY_MS = 250;

export class GroupCommit {
  private jobs: Job[] = [];
  private scheduled = false;
  private readonly flushBound = () => this.flush();
  /** The committed batches whose WAL flush is running, and those waiting for the next one. */
  private syncing: Committed[] | undefined;
  private unsynced: Committed[] = [];
  private dirSynced = false;
  private walFd: number | undefined;
  private idle: Array<() => void> = [];
  /** Batches that met a locked database, oldest first, and the timer of their next try. */
  private waiting: Waiting[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private busyTries = 0;
  /** Set once the store is lost: every write is refused with it. */
  private refusal: StoreUnavailableError | undefined;
  /** Transactions committed, writes in them, and WAL flushes (for metrics and the benchmark). */
  commits = 0;
  writes = 0;
  syncs = 0;
  /** Commits tried again after SQLITE_BUSY. */
  busyRetries = 0;

  private readonly savepoint: (run: () => unknown) => unknown;
  private readonly batch: Transaction<(jobs: Job[], results: Array<{ ok: boolean; value: unknown }>, guarded: boolean) => void>;

  constructor(
    db: Db,
    private readonly options: GroupCommitOptions = {},
  ) {
    // Made once: better-sqlite3 turns a nested transaction into a savepoint.
    this.savepoint = db.transaction((run: () => unknown) => run());
    this.batch = db.transaction((jobs: Job[], results: Array<{ ok: boolean; value: unknown }>, guarded: boolean) => {
      for (let i = 0; i < jobs.length; i++) {
        // First try: no savepoints (they cost a statement pair per write); any throw rolls the batch back.
        if (!guarded) {
          results[i] = { ok: true, value: jobs[i]!.run() };
          continue;
        }
        try {
          results[i] = { ok: true, value: this.savepoint(jobs[i]!.run) };
        } catch (err) {
          // SQLite rolled the whole transaction back (RAISE(ROLLBACK), disk full, I/O error): later
          // jobs would run in autocommit outside the batch. Fail the batch as a whole instead.
          if (!db.inTransaction) throw err;
          results[i] = { ok: false, value: err };
        }
      }
    });
  }

  /** Runs `op` inside the next shared transaction; resolves with its result once it is durable. */
  run<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ run: op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushBound);
      }
    });
  }

  /** Writes waiting for the next commit. */
  get queued(): number {
    return this.jobs.length;
  }

  /** Writes committed and waiting for their WAL flush. */
  get unflushed(): number {
    let n = 0;
    for (const c of [...(this.syncing ?? []), ...this.unsynced]) n += c.jobs.length;
    return n;
  }

  /** Commits what is queued now; its promises settle once durable. */
  flush(): void {
    // A locked database: the retry timer commits these with the waiting ones.
    if (this.retryTimer !== undefined) return;
    this.scheduled = false;
    const fresh = this.jobs;
    if (fresh.length === 0 && this.waiting.length === 0) return;
    this.jobs = [];
    const jobs = this.waiting.length === 0 ? fresh : [...this.waiting.flatMap((w) => w.jobs), ...fresh];
    if (this.refusal !== undefined) return this.fail(jobs, this.refusal.reason, this.refusal);
    const results: Array<{ ok: boolean; value: unknown }> = new Array(jobs.length);
    // IMMEDIATE: take the write lock first, so a batch that starts with a read cannot fail on
    // a snapshot the CLI's commit made stale.
    try {
      this.batch.immediate(jobs, results, false);
    } catch (first) {
      // The store itself failed (locked, full, I/O): running the writes one by one would not help.
      const reason = storeFailure(first);
      if (reason === 'busy') return this.busy(fresh, first);
      if (reason !== undefined) return this.fail(jobs, reason, first);
      // A write failed and the batch was rolled back: run it again, each write in its own
      // savepoint, so the failing one rejects alone.
      try {
        this.batch.immediate(jobs, results, true);
      } catch (err) {
        const again = storeFailure(err);
        if (again === 'busy') return this.busy(fresh, err);
        if (again !== undefined) return this.fail(jobs, again, err);
        // The commit itself failed: nothing of this batch is durable.
        this.waiting = [];
        for (const job of jobs) job.reject(err);
        return this.wakeIdle();
      }
      for (const r of results) if (!r.ok) r.value = asStoreError(r.value);
    }
    this.waiting = [];
    this.busyTries = 0;
    this.commits++;
    this.writes += jobs.length;
    this.options.health?.committed();
    if (this.options.walFile === undefined) {
      settle({ jobs, results });
      return this.wakeIdle();
    }
    this.unsynced.push({ jobs, results });
    if (this.syncing === undefined) this.sync();
  }

  /** The store is lost (watch.ts): every write queued now or later is refused with `reason`. */
  refuse(reason: StoreFailure): void {
    this.refusal ??= new StoreUnavailableError(reason);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.flush();
  }

  /** The batch met another process's write lock: refuse what waited too long, try the rest again soon. */
  private busy(fresh: Job[], err: unknown): void {
    const now = Date.now();
    if (fresh.length > 0) this.waiting.push({ jobs: fresh, since: now });
    const limit = this.options.busyLimitMs ?? 1_500;
    while (this.waiting.length > 0 && now - this.waiting[0]!.since >= limit) {
      const refused = new StoreUnavailableError('busy', err);
      for (const job of this.waiting.shift()!.jobs) job.reject(refused);
      this.options.health?.failed('busy', err);
    }
    if (this.waiting.length === 0) {
      this.busyTries = 0;
      return this.wakeIdle();
    }
    this.busyRetries++;
    this.options.health?.retried();
    const left = limit - (now - this.waiting[0]!.since);
    const delay = Math.max(1, Math.min(BUSY_FIRST_DELAY_MS * 2 ** Math.min(this.busyTries++, 16), BUSY_MAX_DELAY_MS, left));
    this.scheduled = true; // run() schedules nothing more: the timer flushes
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flush();
    }, delay);
  }

  /** The store failed: every write of the batch is refused as "cannot store now". */
  private fail(jobs: Job[], reason: StoreFailure, err: unknown): void {
    this.waiting = [];
    this.busyTries = 0;
    const refused = err instanceof StoreUnavailableError ? err : new StoreUnavailableError(reason, err);
    for (const job of jobs) job.reject(refused);
    this.options.health?.failed(reason, err);
    this.wakeIdle();
  }

  /** drain() waiters: nothing is being flushed or retried any more. */
  private wakeIdle(): void {
    if (this.syncing === undefined && this.retryTimer === undefined && this.unsynced.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  /** Commits what is queued and resolves once every commit so far is durable (shutdown). */
  async drain(): Promise<void> {
    this.flush();
    if (this.syncing !== undefined || this.retryTimer !== undefined) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** drain(), then lets go of the WAL's file descriptor (before the database closes). */
  async close(): Promise<void> {
    await this.drain();
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  /** One WAL flush at a time, for every commit made before it began. */
  private sync(): void {
    const batches = (this.syncing = this.unsynced);
    this.unsynced = [];
    this.flushWal((err) => {
      this.syncing = undefined;
      this.syncs++;
      if (err) {
        for (const b of batches) for (const job of b.jobs) job.reject(err);
        this.options.onSyncError?.(err);
      } else {
        for (const b of batches) settle(b);
      }
      if (this.unsynced.length > 0) this.sync();
      else this.wakeIdle();
    });
  }

  /**
   * fdatasync of the WAL (its directory too, the first time: the WAL may be new). The descriptor
   * stays open: SQLite keeps the WAL file (same inode) while any connection is open, and ours is.
   */
  private flushWal(done: (err: Error | null) => void): void {
    const path = this.options.walFile!;
    if (this.walFd === undefined) {
      open(path, 'r', (err, fd) => {
        if (err) return done(err);
        this.walFd = fd;
        this.flushWal(done);
      });
      return;
    }
    fdatasync(this.walFd, (err) => {
      if (err || this.dirSynced) return done(err);
      open(dirname(path), 'r', (dirErr, dirFd) => {
        if (dirErr) return done(dirErr);
        fsync(dirFd, (syncErr) =>
          close(dirFd, () => {
            if (!syncErr) this.dirSynced = true;
            done(syncErr);
          }),
        );
      });
    });
  }
}

function settle({ jobs, results }: Committed): void {
  for (let i = 0; i < jobs.length; i++) {
    const r = results[i]!;
    if (r.ok) jobs[i]!.resolve(r.value);
    else jobs[i]!.reject(r.value);
  }
}
