// Fresh SQLite files for tests: each call makes its own directory under os.tmpdir(), and cleanup
// closes what was opened there and removes the directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openDb, type Db, type OpenOptions } from '../../src/store/db.js';

export interface TmpPath {
  /** The temp directory (removed by cleanup). */
  dir: string;
  /** A database path inside it; the file does not exist yet. */
  path: string;
  /** Removes the directory and everything in it. Safe to call twice. */
  cleanup(): void;
}

export interface TmpDb extends TmpPath {
  /** Opened (created and migrated) with openDb. */
  db: Db;
  /** Opens another connection to the same file; closed by cleanup. */
  reopen(options?: OpenOptions): Db;
}

/** A database path in a new temp directory; with `t`, cleanup runs after the test. */
export function tmpDbPath(t?: Pick<TestContext, 'after'>, name = 'smppgw.db'): TmpPath {
  const dir = mkdtempSync(join(tmpdir(), 'smppgw-test-'));
  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    rmSync(dir, { recursive: true, force: true });
  };
  t?.after(cleanup);
  return { dir, path: join(dir, name), cleanup };
}

/**
 * An opened, migrated database in a new temp directory. `synchronous: 'normal'` by default: the
 * tests do not need power-loss durability, only speed. With `t`, cleanup runs after the test.
 */
export function tmpDb(t?: Pick<TestContext, 'after'>, options: OpenOptions = { synchronous: 'normal' }): TmpDb {
  const p = tmpDbPath();
  const opened: Db[] = [];
  const reopen = (o: OpenOptions = options): Db => {
    const db = openDb(p.path, { create: true, ...o });
    opened.push(db);
    return db;
  };
  const db = reopen();
  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    for (const d of opened) if (d.open) d.close();
    p.cleanup();
  };
  t?.after(cleanup);
  return { dir: p.dir, path: p.path, db, reopen, cleanup };
}
