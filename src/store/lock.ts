// One daemon per database. The lock is a second SQLite file, `<db>.lock`, held in an EXCLUSIVE
// transaction for the holder's life: SQLite takes it with fcntl byte-range locks, which the kernel
// drops when the process dies (kill -9 included), unlike a PID file, which outlives its process
// and, in a container, names a pid that means nothing. busy_timeout 0: a second holder is refused
// at once. Who holds it is written beside it, in `<db>.lock.json`, once the lock is taken.
//
// Never open and close `<db>.lock` with plain fs calls in a process that holds it: closing any
// descriptor of a file drops every fcntl lock the process has on it (SQLite itself knows this).
import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { StoreError } from '../errors.js';

export interface Holder {
  /** What holds it: `start` (a daemon), `restore`, `init`. */
  role: string;
  pid: number;
  host: string;
  startedAt: string;
  smppPort?: number;
  httpPort?: number;
}

export class StoreLock {
  private released = false;
  private holder: Holder;

  private constructor(
    readonly dbPath: string,
    private readonly conn: Database.Database,
    /** This acquisition made `<db>.lock`: there was none before. */
    readonly created: boolean,
    holder: Holder,
  ) {
    this.holder = holder;
    this.write();
  }

  /** Takes the lock of the database at `dbPath`, or throws STORE_LOCKED naming the holder. */
  static acquire(dbPath: string, holder: Partial<Holder> & { role: string }): StoreLock {
    const db = canonicalPath(dbPath);
    const file = `${db}.lock`;
    let created = false;
    try {
      closeSync(openSync(file, 'wx', 0o600));
      created = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StoreError('STORE_CANNOT_CREATE', file, `cannot create the lock file ${file}: ${code ?? (err as Error).message}`);
    }
    let conn: Database.Database;
    try {
      conn = new Database(file, { fileMustExist: true, timeout: 0 });
    } catch (err) {
      throw new StoreError('STORE_CANNOT_CREATE', file, `cannot open the lock file ${file}: ${(err as Error).message}`);
    }
    try {
      conn.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      conn.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new StoreError('STORE_LOCKED', db, `${db} is in use by ${describeHolder(readHolder(db))}; stop it first (or use another --db)`);
      }
      throw new StoreError('STORE_CANNOT_CREATE', file, `cannot lock ${file}: ${(err as Error).message}`);
    }
    return new StoreLock(db, conn, created, { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...holder });
  }

  /** Adds what is known later (the ports actually bound) to the holder's description. */
  describe(more: Partial<Holder>): void {
    if (this.released) return;
    this.holder = { ...this.holder, ...more };
    this.write();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      this.conn.exec('ROLLBACK');
    } finally {
      this.conn.close();
    }
  }

  private write(): void {
    // Best effort: the lock is what counts; the description only helps the refused one explain.
    const file = `${lockPath(this.dbPath)}.json`;
    try {
      writeFileSync(`${file}.tmp`, `${JSON.stringify(this.holder)}\n`, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    } catch {
      /* the directory is writable (the lock file is in it); nothing useful to do otherwise */
    }
  }
}

export function lockPath(dbPath: string): string {
  return `${canonicalPath(dbPath)}.lock`;
}

/**
 * The database's path with symlinks resolved (of the file if it exists, else of its directory):
 * two paths to one file must meet at one lock.
 */
export function canonicalPath(dbPath: string): string {
  const abs = resolve(dbPath);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/** The last holder's description, if it wrote one. */
export function readHolder(dbPath: string): Holder | null {
  try {
    return JSON.parse(readFileSync(`${lockPath(dbPath)}.json`, 'utf8')) as Holder;
  } catch {
    return null;
  }
}

export function describeHolder(h: Holder | null): string {
  if (h === null) return 'another process (it has not said which yet)';
  const what = h.role === 'start' ? 'a running smppgw' : `smppgw ${h.role}`;
  const ports = [h.smppPort !== undefined ? `SMPP port ${h.smppPort}` : '', h.httpPort !== undefined ? `HTTP port ${h.httpPort}` : '']
    .filter(Boolean)
    .join(', ');
  return `${what} (pid ${h.pid} on ${h.host}${ports ? `, ${ports}` : ''}, started ${h.startedAt})`;
}
