// Backup and restore of the database file. A `cp` of a live WAL database copies the main file
// without the commits still in its -wal (and may catch a page half written): a backup here is
// VACUUM INTO, one read transaction (the daemon keeps writing meanwhile) that writes the live rows
// into a fresh file (so no deleted content, dropped message text included, travels with it),
// checked with integrity_check, made durable, then renamed into place. A restore checks the file the same way,
// refuses while a daemon holds the database, keeps the database it replaces, and renames the new
// one into place.
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, constants, existsSync, fchmodSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidInputError, StoreError } from '../errors.js';
import { createPrivateFile, fsyncPath, removeQuietly } from './files.js';
import { makeDirs, openDb, quickCheck, schemaVersion, statOrNull, storeError } from './db.js';
import { canonicalPath, StoreLock } from './lock.js';
import { asideName } from './open.js';

export interface BackupResult {
  path: string;
  bytes: number;
  version: number;
}

/** Writes a verified copy of the database at `dbPath` to `file` (`force`: replace an existing file). */
export async function backupDatabase(dbPath: string, file: string, options: { force?: boolean } = {}): Promise<BackupResult> {
  const db = resolve(dbPath);
  const dest = resolve(file);
  if (dest === db || dest.startsWith(`${db}-`) || dest.startsWith(`${db}.lock`))
    throw new InvalidInputError(`${dest} is the database itself (or one of its files): back up to another path`);
  const existing = statOrNull(dest);
  if (existing !== null && !existing.isFile()) throw new StoreError('STORE_NOT_FILE', dest, `${dest} is not a file: cannot write a backup there`);
  if (existing !== null && !options.force) throw new StoreError('STORE_EXISTS', dest, `${dest} already exists; --force replaces it`);
  if (!statOrNull(dirname(dest))?.isDirectory()) throw new StoreError('STORE_CANNOT_CREATE', dest, `cannot write ${dest}: ${dirname(dest)} is not a directory`);

  const source = openDb(db, { migrate: false }); // reads only; a writable connection removes its -wal on close
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    createPrivateFile(tmp);
    // One read transaction, which a writer in WAL mode does not wait for; into the empty file made
    // above (VACUUM INTO accepts an empty one), so it is 0600 from the start.
    source.prepare('VACUUM INTO ?').run(tmp);
    const version = verify(tmp, dest);
    fsyncPath(tmp);
    renameSync(tmp, dest);
    fsyncPath(dirname(dest));
    return { path: dest, bytes: statSync(dest).size, version };
  } catch (err) {
    removeQuietly(tmp);
    if (err instanceof StoreError || err instanceof InvalidInputError) throw err;
    throw new StoreError('STORE_CANNOT_CREATE', dest, `cannot write the backup ${dest}: ${(err as Error).message}`, { cause: err });
  } finally {
    source.close();
  }
}

export interface RestoreResult {
  path: string;
  version: number;
  /** Where the database it replaced now is, if there was one. */
  replaced: string | null;
}

/** Puts the backup `file` in place of the database at `dbPath`; refuses while a daemon holds it. */
export function restoreDatabase(dbPath: string, file: string): RestoreResult {
  makeDirs(dirname(resolve(dbPath)));
  const db = canonicalPath(dbPath); // through a symlink, the file it names is replaced
  const src = resolve(file);
  const st = statOrNull(src);
  if (st === null) throw new StoreError('STORE_MISSING', src, `no backup file at ${src}`);
  if (!st.isFile()) throw new StoreError('STORE_NOT_FILE', src, `${src} is not a file`);
  if (src === db) throw new InvalidInputError(`${src} is the database itself: name the backup file to restore`);
  const lock = StoreLock.acquire(db, { role: 'restore' });
  const tmp = `${db}.restoring-${process.pid}`;
  try {
    removeQuietly(tmp);
    copyFileSync(src, tmp, constants.COPYFILE_EXCL);
    chmodOwn(tmp);
    const version = verify(tmp, src);
    fsyncPath(tmp);
    const replaced = setAside(db);
    renameSync(tmp, db);
    fsyncPath(dirname(db));
    return { path: db, version, replaced };
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  } finally {
    lock.release();
  }
}

/** The copy at `path` (named `shownAs` to the operator) is a sound smppgw database: its schema version. Our copy, so it may be written. */
function verify(path: string, shownAs: string): number {
  let conn: Database.Database | undefined;
  try {
    conn = new Database(path, { fileMustExist: true });
    const version = schemaVersion(conn, shownAs);
    if (version === 0) throw new StoreError('STORE_FOREIGN', shownAs, `${shownAs} is an empty database, not an smppgw backup`);
    quickCheck(conn, shownAs, 'integrity_check');
    // One self-contained file (no -wal beside it) that a later `cp` copies whole; `start` turns
    // WAL back on.
    conn.pragma('journal_mode = DELETE');
    return version;
  } catch (err) {
    throw storeError(shownAs, err);
  } finally {
    conn?.close();
  }
}

/**
 * Moves the current database out of the way as `<db>.replaced-<UTC time>`, its -wal with it (as
 * that copy's -wal, so opening the copy still sees every commit); the -shm is only an index.
 */
function setAside(db: string): string | null {
  const hasDb = existsSync(db);
  const kept = asideName(db, 'replaced', ['-wal', '-journal']);
  if (hasDb) {
    checkpoint(db);
    renameSync(db, kept);
  }
  for (const suffix of ['-wal', '-journal'])
    if (existsSync(`${db}${suffix}`)) renameSync(`${db}${suffix}`, hasDb ? `${kept}${suffix}` : asideName(`${db}${suffix}`, 'orphaned'));
  removeQuietly(`${db}-shm`);
  return hasDb ? kept : null;
}

/** Folds the -wal into the file before it is moved, when the file can still be opened. */
function checkpoint(db: string): void {
  try {
    const conn = new Database(db, { fileMustExist: true, timeout: 0 });
    try {
      conn.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      conn.close();
    }
  } catch {
    /* a damaged file (the reason for many a restore): its -wal moves with it instead */
  }
}

/** Tightens a file this process has just created (copyFileSync keeps the source's mode). */
function chmodOwn(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}
