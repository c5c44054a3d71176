// The SQLite file: opened in WAL mode, migrated forward by numbered steps recorded in PRAGMA
// user_version. One connection per process; the daemon and the CLI may share the file.
// Only an existing smppgw database is opened unless `create` is asked for; only a file created here
// is chmodded (never a path the operator named that already exists: it may be a symlink or a
// directory), and directories are made one level at a time, so no path can make this loop.
import Database from 'better-sqlite3';
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreError } from '../errors.js';
import { createPrivateFile } from './files.js';
import { MIGRATIONS } from './schema.js';

export type Db = Database.Database;

/** A schema step: SQL, or a function for a step SQL alone cannot do (it runs in the step's transaction). */
export type Migration = string | ((db: Db) => void);

/** Runs one schema step (without recording the version). */
export function applyMigration(db: Db, step: Migration): void {
  if (typeof step === 'string') db.exec(step);
  else step(db);
}

export interface OpenOptions {
  /** `full` (default): a commit survives power loss. `normal`: it survives a process crash. */
  synchronous?: 'full' | 'normal';
  readonly?: boolean;
  /**
   * Create the file (0600, its missing directories 0700) when there is none, and initialise an
   * empty one. For the daemon's first start, `smppgw init` and library use; the admin commands
   * open only an existing smppgw database.
   */
  create?: boolean;
  /** Run PRAGMA quick_check and refuse a damaged file (the daemon, on start). */
  quickCheck?: boolean;
  /**
   * Bring an older schema up to date (default: unless readonly). `false` for a reader that must
   * not write, yet should tidy up like a writer (a readonly connection leaves -wal/-shm behind).
   */
  migrate?: boolean;
}

export function openDb(path: string, options: OpenOptions = {}): Db {
  if (path === ':memory:') return configure(new Database(path), options);
  const abs = resolve(path);
  const st = statOrNull(abs);
  if (st === null) {
    if (!options.create || options.readonly)
      throw new StoreError('STORE_MISSING', abs, `no smppgw database at ${abs} (check --db or store.path; \`smppgw init\` creates one)`);
    makeDirs(dirname(abs));
    createDbFile(abs);
  } else if (!st.isFile()) {
    throw new StoreError('STORE_NOT_FILE', abs, `${abs} is not a database file (${st.isDirectory() ? 'a directory' : 'not a regular file'})`);
  }
  let db: Db;
  try {
    db = new Database(abs, { readonly: options.readonly ?? false, fileMustExist: true });
  } catch (err) {
    throw storeError(abs, err);
  }
  try {
    return configure(db, options);
  } catch (err) {
    db.close();
    throw storeError(abs, err);
  }
}

function configure(db: Db, options: OpenOptions): Db {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  // Deleted and overwritten content (message text, receipts, MOs) is zeroed, not left in free space.
  db.pragma('secure_delete = ON');
  // The daemon and the CLI write the same file: wait for the other's transaction, do not fail.
  db.pragma('busy_timeout = 5000');
  if (db.memory) {
    migrate(db);
    return db;
  }
  const version = schemaVersion(db, db.name);
  if (version === 0 && !options.create) {
    throw new StoreError('STORE_FOREIGN', db.name, `${db.name} is an empty database, not initialised (\`smppgw init\` or a first \`smppgw start\` does that)`);
  }
  if (options.quickCheck) quickCheck(db, db.name);
  if (!options.readonly && options.migrate !== false) migrate(db);
  return db;
}

/**
 * The smppgw schema version of an open file: 0 for an empty database; refuses a database of
 * another program (tables but no user_version, or no config_version table) and a newer schema.
 */
export function schemaVersion(db: Db, path: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  if (version === 0 && tables.length === 0) return 0;
  if (version === 0 || !tables.includes('config_version')) {
    throw new StoreError('STORE_FOREIGN', path, `${path} is an SQLite database but not an smppgw one (tables: ${tables.slice(0, 5).join(', ') || 'none'})`);
  }
  if (version > MIGRATIONS.length) {
    throw new StoreError(
      'STORE_TOO_NEW',
      path,
      `${path}: database schema version ${version} is newer than this smppgw knows (${MIGRATIONS.length}); upgrade smppgw`,
    );
  }
  return version;
}

/** PRAGMA quick_check (or integrity_check): refuses a damaged file with SQLite's first complaint. */
export function quickCheck(db: Db, path: string, pragma: 'quick_check' | 'integrity_check' = 'quick_check'): void {
  let problems: string[];
  try {
    problems = (db.pragma(`${pragma}(5)`) as Array<Record<string, unknown>>).map((r) => String(Object.values(r)[0]));
  } catch (err) {
    throw storeError(path, err);
  }
  if (problems.length !== 1 || problems[0] !== 'ok') {
    throw new StoreError(
      'STORE_DAMAGED',
      path,
      `${path} is damaged (${pragma}: ${problems[0]?.replace(/\s+/g, ' ')}); restore a backup with \`smppgw restore FILE\``,
    );
  }
}

/** Applies every migration newer than the file's user_version, each in its own transaction. */
export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StoreError(
      'STORE_TOO_NEW',
      db.name,
      `${db.name}: database schema version ${current} is newer than this smppgw knows (${MIGRATIONS.length}); upgrade smppgw`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      applyMigration(db, MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return MIGRATIONS.length;
}

/** A counter the CLI bumps on every configuration change; the daemon polls it to reload. */
export function configVersion(db: Db): number {
  return (db.prepare('SELECT version FROM config_version').pluck().get() as number | undefined) ?? 0;
}

export function bumpConfigVersion(db: Db): void {
  db.prepare('UPDATE config_version SET version = version + 1').run();
}

/** SQLite's complaints about a file, as a StoreError naming it; other errors pass through. */
export function storeError(path: string, err: unknown): unknown {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: string }).code ?? '';
  const why = (err as Error).message;
  if (code === 'SQLITE_NOTADB')
    return new StoreError('STORE_FOREIGN', path, `${path} is not an SQLite database (wrong path, or its header is damaged)`, { cause: err });
  if (code.startsWith('SQLITE_CORRUPT'))
    return new StoreError('STORE_DAMAGED', path, `${path} is damaged (${why}); restore a backup with \`smppgw restore FILE\``, { cause: err });
  if (code.startsWith('SQLITE_IOERR')) return new StoreError('STORE_DAMAGED', path, `${path}: I/O error (${why})`, { cause: err });
  if (code.startsWith('SQLITE_CANTOPEN')) return new StoreError('STORE_MISSING', path, `cannot open ${path} (${why})`, { cause: err });
  if (code === 'SQLITE_BUSY')
    return new StoreError('STORE_LOCKED', path, `${path} is busy (another process holds a write transaction); try again`, { cause: err });
  return err;
}

export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw new StoreError('STORE_MISSING', path, `cannot look at ${path}: ${(err as Error).message}`);
  }
}

/**
 * Makes `dir` and its missing parents, 0700, one level at a time: the walk up ends at the root, so
 * a path that cannot be made (under /proc, a parent that is a file) is an error, never a loop.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  let st = statOrNull(d);
  while (st === null) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
    st = statOrNull(d);
  }
  if (st !== null && !st.isDirectory()) throw new StoreError('STORE_CANNOT_CREATE', d, `cannot create the database directory: ${d} is not a directory`);
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statOrNull(m)?.isDirectory()) continue;
      throw new StoreError(
        'STORE_CANNOT_CREATE',
        m,
        `cannot create the database directory ${m}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
}

/** Creates an empty database file exclusively (never through an existing path), mode 0600. */
export function createDbFile(path: string): void {
  try {
    createPrivateFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StoreError(
      code === 'EEXIST' ? 'STORE_EXISTS' : 'STORE_CANNOT_CREATE',
      path,
      `cannot create the database ${path}: ${code ?? (err as Error).message}`,
    );
  }
}
