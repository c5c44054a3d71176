// Group commit: every write asked for in one event-loop turn runs in one SQLite transaction, and
// each caller's promise settles only after that transaction committed. Acknowledging a message
// then costs one shared commit per turn instead of one fsync per message.
// Each write runs in its own savepoint, so one failing write rejects alone.
import type { Transaction } from 'better-sqlite3';
import type { Db } from './db.js';

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private jobs: Job[] = [];
  private scheduled = false;
  private readonly flushBound = () => this.flush();
  /** Transactions committed, and writes in them (for metrics and the benchmark). */
  commits = 0;
  writes = 0;

  private readonly savepoint: (run: () => unknown) => unknown;
  private readonly batch: Transaction<(jobs: Job[], results: Array<{ ok: boolean; value: unknown }>) => void>;

  constructor(db: Db) {
    // Made once: better-sqlite3 turns a nested transaction into a savepoint.
    this.savepoint = db.transaction((run: () => unknown) => run());
    this.batch = db.transaction((jobs: Job[], results: Array<{ ok: boolean; value: unknown }>) => {
      for (let i = 0; i < jobs.length; i++) {
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

  /** Runs `op` inside the next shared transaction; resolves with its result after the commit. */
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

  /** Commits what is queued now (also called on shutdown). */
  flush(): void {
    this.scheduled = false;
    const jobs = this.jobs;
    if (jobs.length === 0) return;
    this.jobs = [];
    const results: Array<{ ok: boolean; value: unknown }> = new Array(jobs.length);
    try {
      // IMMEDIATE: take the write lock first, so a batch that starts with a read cannot fail on
      // a snapshot the CLI's commit made stale.
      this.batch.immediate(jobs, results);
    } catch (err) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is durable.
      for (const job of jobs) job.reject(err);
      return;
    }
    this.commits++;
    this.writes += jobs.length;
    for (let i = 0; i < jobs.length; i++) {
      const r = results[i]!;
      if (r.ok) jobs[i]!.resolve(r.value);
      else jobs[i]!.reject(r.value);
    }
  }
}
