// Watches the database path while the daemon runs. SQLite keeps writing to the file it opened: if
// that file is deleted (or another file is moved over the path), every commit still succeeds, into
// an inode nothing names any more, and is gone when the process exits. So a timer (not a cost per
// message) stats the path and compares its device and inode with those of the file opened at
// start; gone or different both mean the store is lost. The same tick reads the WAL's size (an
// outside reader pins checkpoints and the WAL grows).
//
// rescue() writes what the open connection still reads (the unlinked inode, with its WAL) to a new
// file beside the path with SQLite's online backup.
import { stat, statSync, unlinkSync, type BigIntStats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.js';
import type { Db } from './db.js';
import { createPrivateFile, removeQuietly } from './files.js';

export type LostHow = 'gone' | 'replaced';

export interface StoreWatchOptions {
  /** The database file's path (as opened). */
  path: string;
  logger: Logger;
  /** How often the path is checked (default 500 ms: the loss is noticed within about a second). */
  intervalMs?: number;
  /** The path no longer names the open file. Called once; the watch stops. */
  onLost: (how: LostHow) => void;
  /** The WAL's size in bytes, every tick. */
  onWalBytes?: (bytes: number) => void;
  /** Called every tick while the store is healthy enough to check (the gateway probes a failing store). */
  onTick?: () => void;
}

/** A file by device, inode and birth time: a file created where ours was unlinked may reuse its inode number. */
interface Identity {
  dev: bigint;
  ino: bigint;
  /** 0 where the file system keeps none. */
  birth: bigint;
}

const identity = (st: BigIntStats): Identity => ({ dev: st.dev, ino: st.ino, birth: st.birthtimeNs });
const same = (a: Identity | undefined, b: Identity): boolean => a !== undefined && a.dev === b.dev && a.ino === b.ino && a.birth === b.birth;

export class StoreWatch {
  /** The files opened at start: the database, and its WAL and shared-memory files. */
  private readonly db: Identity;
  private readonly sidecars: Map<string, Identity> = new Map();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private done = false;
  private readonly log: Logger;

  /** Call right after the database is opened: what the path names now is the open file. */
  constructor(private readonly o: StoreWatchOptions) {
    this.log = o.logger.child({ part: 'store-watch' });
    this.db = identity(statSync(o.path, { bigint: true }));
    for (const suffix of ['-wal', '-shm']) {
      const st = statSync(`${o.path}${suffix}`, { bigint: true, throwIfNoEntry: false });
      if (st) this.sidecars.set(suffix, identity(st));
    }
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.o.intervalMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    this.done = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check (the timer calls it; tests may too). Async stats: a slow disk never holds the event loop. */
  tick(): void {
    if (this.checking || this.done) return;
    this.checking = true;
    stat(this.o.path, { bigint: true }, (err, st) => {
      if (this.done) return;
      const how: LostHow | undefined =
        err?.code === 'ENOENT' || err?.code === 'ENOTDIR' ? 'gone' : !err && !same(this.db, identity(st)) ? 'replaced' : undefined;
      if (err && how === undefined) this.log.debug({ err: err.message }, 'could not stat the database path');
      if (how !== undefined) {
        this.stop();
        this.o.onLost(how);
        return;
      }
      this.o.onTick?.();
      stat(`${this.o.path}-wal`, (walErr, wal) => {
        this.checking = false;
        if (!walErr) this.o.onWalBytes?.(wal.size);
        else if (walErr.code === 'ENOENT') this.o.onWalBytes?.(0);
      });
    });
  }

  /**
   * After the database is closed, once lost: removes the WAL and shared-memory files at the path if
   * they are still the ones this process opened. SQLite leaves them when the database moved, and a
   * stale WAL next to the file an operator puts back would be replayed into it.
   */
  removeStaleSidecars(): string[] {
    const removed: string[] = [];
    for (const [suffix, id] of this.sidecars) {
      const file = `${this.o.path}${suffix}`;
      const st = statSync(file, { bigint: true, throwIfNoEntry: false });
      if (!st || !same(id, identity(st))) continue;
      try {
        unlinkSync(file);
        removed.push(file);
      } catch (err) {
        this.log.warn({ file, err: (err as Error).message }, "could not remove the lost database's stale file");
      }
    }
    return removed;
  }
}

/**
 * The store is lost: logs it, writes the rescue copy (again every 10 s until it succeeds, while
 * the database is open), and logs where it is and what the operator does next.
 */
export function rescueLost(db: Db, path: string, how: LostHow, logger: Logger, done: (rescued: string) => void): void {
  const log = logger.child({ part: 'store' });
  log.error({ path, how }, `database file ${how === 'gone' ? 'deleted' : 'replaced'} while running: refusing all traffic, not ready; writing a rescue copy`);
  const attempt = (): void => {
    rescue(db, path).then(
      (rescued) => {
        done(rescued);
        log.error(
          { path, rescued, how },
          `store lost: what this process held is in ${rescued}. To recover: stop smppgw, then \`smppgw restore ${rescued}\` (or move ${rescued} to ${path}), then start smppgw. Until stopped it stays up, not ready, refusing traffic`,
        );
      },
      (err: Error) => {
        if (!db.open) return;
        log.error(
          { path, err: err.message },
          'could not write the rescue copy of the lost database; trying again in 10 s (do not stop smppgw: this process holds the only copy)',
        );
        setTimeout(attempt, 10_000).unref();
      },
    );
  };
  attempt();
}

/** `2026-12-04T17:05:12.345Z` → `20261204T170512Z`: sortable, no characters a shell or a filesystem minds. */
export function rescueStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Writes everything the open connection holds to `<path>.rescued-<UTC time>` (created 0600) with
 * SQLite's online backup, or beside a temp directory's copy when the path's directory is gone.
 * Resolves with the file written.
 */
export async function rescue(db: Db, path: string, at = new Date()): Promise<string> {
  const name = `${basename(path)}.rescued-${rescueStamp(at)}`;
  let lastErr: unknown;
  for (const dir of [dirname(path), tmpdir()]) {
    const target = join(dir, name);
    try {
      createPrivateFile(target);
    } catch (err) {
      lastErr = err;
      continue;
    }
    try {
      await db.backup(target);
      return target;
    } catch (err) {
      lastErr = err;
      removeQuietly(target);
    }
  }
  throw lastErr;
}
