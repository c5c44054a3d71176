// Opening the store for the daemon (and `smppgw init`): the lock first, then the file. A missing
// database is created only where none evidently lived: its lock file or WAL companions left
// behind mean it was deleted or moved, and an empty one would silently take its place (and a
// stale -wal would be replayed into it). `init` says "start empty anyway"; the traces are then
// kept aside, never deleted.
import { existsSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreError } from '../errors.js';
import { removeQuietly } from './files.js';
import { makeDirs, openDb, statOrNull, type Db, type OpenOptions } from './db.js';
import { canonicalPath, lockPath, StoreLock, type Holder } from './lock.js';

export interface OpenedStore {
  db: Db;
  lock: StoreLock;
  /** Absolute path of the database. */
  path: string;
  /** The file was created by this call. */
  created: boolean;
  /** Traces of an earlier database moved aside (with `init`). */
  setAside: string[];
  /** Closes the database, then lets the lock go. */
  close(): void;
}

export interface StoreOpenOptions extends Pick<OpenOptions, 'synchronous'> {
  /** Create an empty database even where traces of an earlier one are found. */
  init?: boolean;
  holder: Partial<Holder> & { role: string };
}

export const WAL_COMPANIONS = ['-wal', '-shm', '-journal'] as const;

export function openStore(path: string, options: StoreOpenOptions): OpenedStore {
  makeDirs(dirname(resolve(path)));
  const abs = canonicalPath(path);
  const lock = StoreLock.acquire(abs, options.holder);
  try {
    const setAside: string[] = [];
    const existed = statOrNull(abs) !== null;
    if (!existed) {
      const traces = [...WAL_COMPANIONS.map((s) => `${abs}${s}`).filter((f) => existsSync(f)), ...(lock.created ? [] : [lockPath(abs)])];
      if (traces.length > 0 && !options.init) {
        throw new StoreError(
          'STORE_GONE',
          abs,
          `no database at ${abs}, but ${traces.join(', ')} show${traces.length === 1 ? 's' : ''} one lived there: restore a backup (\`smppgw restore FILE\`) or start empty with --init`,
        );
      }
      // A stale WAL next to a new file would be read as part of it: keep it, but out of the way.
      for (const f of traces) {
        if (f === lockPath(abs)) continue;
        const aside = asideName(f, 'orphaned');
        renameSync(f, aside);
        setAside.push(aside);
      }
    }
    const db = openDb(abs, { create: true, quickCheck: existed, ...(options.synchronous ? { synchronous: options.synchronous } : {}) });
    return {
      db,
      lock,
      path: abs,
      created: !existed,
      setAside,
      close: () => {
        try {
          if (db.open) db.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    // A lock file made for a database that never came to be would read as a trace of one next time.
    if (lock.created && statOrNull(abs) === null) {
      removeQuietly(lockPath(abs));
      removeQuietly(`${lockPath(abs)}.json`);
    }
    throw err;
  }
}

/** 20261204T170102Z: a UTC time for file names, sortable, without colons. */
export function utcStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * `<path>.<label>-<UTC time>`, or with `-2`, `-3`… when that is taken (two within a second): a
 * file set aside never takes the place of one set aside before. `with` names companions that
 * must be free too (`-wal`).
 */
export function asideName(path: string, label: string, withSuffixes: readonly string[] = []): string {
  const base = `${path}.${label}-${utcStamp()}`;
  for (let n = 1; n <= 100; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if ([name, ...withSuffixes.map((s) => `${name}${s}`)].every((f) => !existsSync(f))) return name;
  }
  throw new StoreError('STORE_CANNOT_CREATE', path, `cannot find a free name to keep ${path} aside (${base}…)`);
}
