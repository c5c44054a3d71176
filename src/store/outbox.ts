// Per-account outboxes: receipts and MOs (as ready deliver_sm PDUs) waiting for a bound receiver.
// Statements are synchronous, meant to run inside GroupCommit.run.
import type { Db } from './db.js';

export interface OutboxItem {
  id: number;
  /** The account's internal id (never reused). */
  accountId: number;
  kind: 'dlr' | 'mo';
  /** The deliver_sm, encoded; its sequence number is replaced when sent. */
  pdu: Buffer;
  messageId: number | null;
  attempts: number;
  nextAt: number;
  expiresAt: number;
}

interface Row {
  id: number;
  account_id: number;
  kind: 'dlr' | 'mo';
  pdu: Buffer;
  message_id: number | null;
  attempts: number;
  next_at: number;
  expires_at: number;
}

const fromRow = (r: Row): OutboxItem => ({
  id: r.id, accountId: r.account_id, kind: r.kind, pdu: r.pdu, messageId: r.message_id, attempts: r.attempts, nextAt: r.next_at, expiresAt: r.expires_at,
});

export class Outbox {
  private readonly q;

  constructor(db: Db) {
    this.q = {
      add: db.prepare('INSERT INTO outbox (account_id, kind, pdu, message_id, next_at, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      remove: db.prepare('DELETE FROM outbox WHERE id = ?'),
      retry: db.prepare('UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?'),
      all: db.prepare('SELECT * FROM outbox ORDER BY id'),
      page: db.prepare('SELECT * FROM outbox WHERE account_id = ? AND id <= ? ORDER BY id LIMIT ?'),
      expired: db.prepare('SELECT * FROM outbox WHERE expires_at <= ? ORDER BY expires_at LIMIT ?'),
      maxId: db.prepare('SELECT COALESCE(MAX(id), 0) FROM outbox').pluck(),
      count: db.prepare('SELECT account_id, COUNT(*) AS n FROM outbox GROUP BY account_id'),
    };
  }

  add(accountId: number, kind: 'dlr' | 'mo', pdu: Buffer, messageId: number | null, now: number, ttlMs: number): OutboxItem {
    const r = this.q.add.run(accountId, kind, pdu, messageId, now, now + ttlMs, now);
    return { id: Number(r.lastInsertRowid), accountId, kind, pdu, messageId, attempts: 0, nextAt: now, expiresAt: now + ttlMs };
  }

  /** Delivered (deliver_sm_resp OK) or expired: gone. */
  remove(id: number): void {
    this.q.remove.run(id);
  }

  retry(id: number, nextAt: number): void {
    this.q.retry.run(nextAt, id);
  }

  /** Everything waiting, oldest first (read at start to resume). */
  all(): OutboxItem[] {
    return (this.q.all.all() as Row[]).map(fromRow);
  }

  /** The account's oldest items with ids up to `maxId`, at most `limit` (the outbox pages them into memory). */
  page(accountId: number, maxId: number, limit: number): OutboxItem[] {
    return (this.q.page.all(accountId, maxId, limit) as Row[]).map(fromRow);
  }

  /** Items whose TTL ran out by `now`, at most `limit`. */
  expired(now: number, limit: number): OutboxItem[] {
    return (this.q.expired.all(now, limit) as Row[]).map(fromRow);
  }

  /** The highest id in the table (0 when empty). */
  maxId(): number {
    return this.q.maxId.get() as number;
  }

  /** Items waiting per account id. */
  countByAccount(): Map<number, number> {
    const out = new Map<number, number>();
    for (const r of this.q.count.all() as Array<{ account_id: number; n: number }>) out.set(r.account_id, r.n);
    return out;
  }
}
