// The SQLite file: opened in WAL mode, created 0600, migrated forward by numbered steps recorded in
// PRAGMA user_version. One connection per process; the daemon and the CLI may share the file.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './schema.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** `full` (default): a commit survives power loss. `normal`: it survives a process crash. */
  synchronous?: 'full' | 'normal';
  readonly?: boolean;
}

export function openDb(path: string, options: OpenOptions = {}): Db {
  if (path !== ':memory:' && !options.readonly) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  // Deleted and overwritten content (message text, receipts, MOs) is zeroed, not left in free space.
  db.pragma('secure_delete = ON');
  // The daemon and the CLI write the same file: wait for the other's transaction, do not fail.
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) migrate(db);
  return db;
}

/** Applies every migration newer than the file's user_version, each in its own transaction. */
export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this smppgw knows (${MIGRATIONS.length}); upgrade smppgw`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
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
