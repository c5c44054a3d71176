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
import type { Transaction } from 'better-sqlite3';
import { close, closeSync, fdatasync, fsync, open } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from './db.js';

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
}

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
  /** Transactions committed, writes in them, and WAL flushes (for metrics and the benchmark). */
  commits = 0;
  writes = 0;
  syncs = 0;

  private readonly savepoint: (run: () => unknown) => unknown;
  private readonly batch: Transaction<(jobs: Job[], results: Array<{ ok: boolean; value: unknown }>, guarded: boolean) => void>;

  constructor(db: Db, private readonly options: GroupCommitOptions = {}) {
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
    this.scheduled = false;
    const jobs = this.jobs;
    if (jobs.length === 0) return;
    this.jobs = [];
    const results: Array<{ ok: boolean; value: unknown }> = new Array(jobs.length);
    // IMMEDIATE: take the write lock first, so a batch that starts with a read cannot fail on
    // a snapshot the CLI's commit made stale.
    try {
      this.batch.immediate(jobs, results, false);
    } catch {
      // A write failed and the batch was rolled back: run it again, each write in its own
      // savepoint, so the failing one rejects alone.
      try {
        this.batch.immediate(jobs, results, true);
      } catch (err) {
        // The commit itself failed (disk full, I/O error): nothing of this batch is durable.
        for (const job of jobs) job.reject(err);
        return;
      }
    }
    this.commits++;
    this.writes += jobs.length;
    if (this.options.walFile === undefined) {
      settle({ jobs, results });
      return;
    }
    this.unsynced.push({ jobs, results });
    if (this.syncing === undefined) this.sync();
  }

  /** Commits what is queued and resolves once every commit so far is durable (shutdown). */
  async drain(): Promise<void> {
    this.flush();
    if (this.syncing !== undefined) await new Promise<void>((resolve) => this.idle.push(resolve));
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
      else for (const resolve of this.idle.splice(0)) resolve();
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
