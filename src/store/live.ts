// The daemon's store while it runs: the open database under its lock, the group commit, the health
// that gates writes, and the watch that notices the file being deleted or replaced (then rescues
// what the open connection still reads). What to do on an unrecoverable fsync failure is the
// caller's (the CLI exits; a class never does).
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db } from './db.js';
import { GroupCommit } from './group-commit.js';
import { StoreHealth, StoreUnavailableError } from './health.js';
import { openStore, type OpenedStore } from './open.js';
import { StoreWatch, rescueLost, type LostHow } from './watch.js';

export interface LiveStoreOptions {
  config: Pick<Config, 'store' | 'smpp' | 'http'>;
  logger: Logger;
  metrics: Metrics;
  /** Create an empty database even where traces of an earlier one are (`start --init`). */
  initStore: boolean;
  /** Writes stopped or resumed: nothing may go to carriers or accounts whose outcome cannot be recorded. */
  onWritable: (failing: boolean) => void;
  /** An fsync failed: the page cache cannot be trusted, only a restart recovers. */
  onFatal: (err: Error) => void;
}

export class LiveStore {
  readonly db: Db;
  readonly commit: GroupCommit;
  readonly health: StoreHealth;
  private readonly opened: OpenedStore;
  private readonly watch: StoreWatch | undefined;
  private probing = false;
  /** Where the rescue copy of a lost database was written. */
  private rescued: string | undefined;

  constructor(private readonly o: LiveStoreOptions) {
    const { config, logger: log, metrics } = o;
    // `full`: every acknowledged write is on disk, but the WAL's fsync runs off the event loop
    // (GroupCommit), so SQLite itself runs NORMAL.
    const full = config.store.synchronous === 'full';
    // The lock first (one daemon per database), then the file: created only on a first start.
    this.opened = openStore(config.store.path, {
      synchronous: 'normal',
      init: o.initStore,
      holder: { role: 'start', smppPort: config.smpp.port, httpPort: config.http.port },
    });
    this.db = this.opened.db;
    if (this.opened.setAside.length > 0) log.warn({ files: this.opened.setAside }, 'traces of an earlier database kept aside (--init)');
    log.info(
      { path: this.opened.path, created: this.opened.created, synchronous: config.store.synchronous },
      this.opened.created ? 'store created' : 'store open',
    );
    // busy_timeout sleeps on the event loop (better-sqlite3 is synchronous): the daemon never waits
    // for another process's lock; GroupCommit retries a locked commit from a timer instead.
    this.db.pragma('busy_timeout = 0');
    this.health = new StoreHealth({
      logger: log,
      count: (reason) => metrics.storeErrors.inc({ reason }),
      countRetry: () => metrics.storeRetries.inc(),
      onChange: (failing) => o.onWritable(failing),
    });
    this.commit = new GroupCommit(this.db, {
      health: this.health,
      // Beside the real file, as SQLite puts it.
      ...(full ? { walFile: `${this.opened.path}-wal`, onSyncError: (err: Error) => o.onFatal(err) } : {}),
    });
    if (config.store.path !== ':memory:') {
      this.watch = new StoreWatch({
        path: this.opened.path,
        logger: log,
        onLost: (how) => this.lost(how),
        onWalBytes: (bytes) => metrics.storeWalBytes.set(bytes),
        onTick: () => this.probe(),
      });
    }
  }

  /** Starts watching the file (once the daemon listens). */
  start(ports: { smppPort: number; httpPort: number }): void {
    this.opened.lock.describe(ports);
    this.watch?.start();
  }

  /** Finishes the last commits, closes the database, then lets the lock go. */
  async close(): Promise<void> {
    this.watch?.stop();
    await this.commit.close();
    this.opened.close();
    if (this.rescued !== undefined) {
      const removed = this.watch?.removeStaleSidecars() ?? [];
      if (removed.length > 0) this.o.logger.info({ removed }, "removed the lost database's WAL files from its path");
    }
  }

  /** The database handle still answers a read (liveness). */
  readable(): boolean {
    try {
      return this.db.open && this.db.prepare('SELECT 1').pluck().get() === 1;
    } catch {
      return false;
    }
  }

  /**
   * The database path no longer names the file this process writes (deleted, or another file moved
   * over it): every commit from now on would vanish with the process. Refuse all writes (accounts
   * and carriers get "cannot store now" and retry later), send nothing more, answer /readyz 503,
   * and copy what the open connection still reads to a rescue file beside the path.
   *
   * The process then stays up, not ready, rather than exiting: exiting would let a supervisor
   * restart it on a new, empty database at the path and take traffic again while the messages it
   * acknowledged sit only in the rescue file (or, if the rescue could not be written, nowhere but
   * in this process's open connection, which it keeps retrying to copy). The operator stops it,
   * puts the rescued file in place, and starts it.
   */
  private lost(how: LostHow): void {
    this.health.lose(how);
    this.commit.refuse('lost');
    this.o.metrics.storeLost.set(1);
    rescueLost(this.db, this.o.config.store.path, how, this.o.logger, (rescued) => (this.rescued = rescued));
  }

  /** A store refusing writes (not lost) is tried with a one-page write each watch tick, so readiness comes back without traffic. */
  private probe(): void {
    if (this.health.ok || this.health.lost || this.probing) return;
    this.probing = true;
    this.commit
      .run(() => this.db.pragma(`user_version = ${this.db.pragma('user_version', { simple: true }) as number}`))
      .catch((err: unknown) => {
        if (!(err instanceof StoreUnavailableError)) this.o.logger.warn({ err: (err as Error).message }, 'store probe failed');
      })
      .finally(() => (this.probing = false));
  }
}
