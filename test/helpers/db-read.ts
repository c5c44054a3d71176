// Reading a running gateway's SQLite file from a test: a read-only connection per look, closed at once.
import Database from 'better-sqlite3';

export function readDb<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Messages by ledger state (0 queued, 1 enroute, 2.. final; see src/dlr/receipt.ts). */
export function messageStates(path: string): Record<number, number> {
  return readDb(path, (db) => {
    const out: Record<number, number> = {};
    for (const r of db.prepare('SELECT state, COUNT(*) AS n FROM messages GROUP BY state').all() as Array<{ state: number; n: number }>) out[r.state] = r.n;
    return out;
  });
}
