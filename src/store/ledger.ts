// The message ledger: every MT message accepted, its route, its carrier id and its state. A row is
// one part of a message (a message of one part is one row); each part has its own carrier
// connector, carrier id, state and receipt. Methods are synchronous statements meant to run
// inside GroupCommit.run, so many share one commit.
import { MessageState } from '../smpp/message-state.js';
import type { Db } from './db.js';

/** Where a message came from: an account's SMPP bind or HTTP request, or the gateway itself. */
export type Origin = 'smpp' | 'http' | 'system';

export interface NewMessage {
  /** The account's internal id (never reused): for a system message, the account it is charged to. */
  accountId: number;
  /** Default 'smpp'. A system message puts no receipt in any outbox. */
  origin?: Origin;
  sourceAddr: string;
  destAddr: string;
  registeredDelivery: number;
  /** The submit_sm as received (sequence number irrelevant). */
  pdu: Buffer;
  routeId: number;
  connectors: string[];
  expiresAt: number;
  now: number;
  /** When it is due (schedule_delivery_time); default `now`. */
  dueAt?: number;
  /** A part of a message the sender split itself: the message's id (its first part stored; none for that part), and where this part is. */
  msg?: number;
  part?: number;
  parts?: number;
}

/** What the dispatcher needs of a queued message. */
export interface QueuedMessage {
  id: number;
  accountId: number;
  origin: Origin;
  pdu: Buffer;
  connectors: string[];
  attempts: number;
  nextAt: number;
  expiresAt: number;
  submittedAt: number;
  /** Its message's first part, for a part of a longer message. */
  msg?: number;
}

/** What receipts and queries need of a message (of one part of it). */
export interface MessageRecord {
  id: number;
  accountId: number;
  origin: Origin;
  /** The message this part belongs to (its first part's id); its own id for a message of one part. */
  msg: number;
  part: number;
  parts: number;
  sourceAddr: string;
  destAddr: string;
  registeredDelivery: number;
  pdu: Buffer;
  connector: string | null;
  state: number;
  error: number | null;
  smscId: string | null;
  smscIdRaw: string | null;
  submittedAt: number;
  doneAt: number | null;
}

/** What a receipt needs of the message it belongs to. */
export interface AwaitingReceipt {
  id: number;
  accountId: number;
  origin: Origin;
  pdu: Buffer;
  submittedAt: number;
}

export interface ParkedReceipt {
  id: number;
  receipt: string;
}

interface RecordRow {
  id: number;
  account_id: number;
  origin: Origin;
  msg: number | null;
  part: number;
  parts: number;
  source_addr: string;
  dest_addr: string;
  registered_delivery: number;
  pdu: Buffer;
  connector: string | null;
  state: number;
  error: number | null;
  smsc_id: string | null;
  smsc_id_raw: string | null;
  submitted_at: number;
  done_at: number | null;
}

type QueuedRow = {
  id: number;
  account_id: number;
  origin: Origin;
  pdu: Buffer;
  connectors: string;
  attempts: number;
  next_at: number;
  expires_at: number;
  submitted_at: number;
  msg: number | null;
};

function fromQueuedRow(r: QueuedRow): QueuedMessage {
  return {
    id: r.id,
    accountId: r.account_id,
    origin: r.origin,
    pdu: r.pdu,
    connectors: r.connectors.split(','),
    attempts: r.attempts,
    nextAt: r.next_at,
    expiresAt: r.expires_at,
    submittedAt: r.submitted_at,
    ...(r.msg !== null ? { msg: r.msg } : {}),
  };
}

function toRecord(r: RecordRow): MessageRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    origin: r.origin,
    msg: r.msg ?? r.id,
    part: r.part,
    parts: r.parts,
    sourceAddr: r.source_addr,
    destAddr: r.dest_addr,
    registeredDelivery: r.registered_delivery,
    pdu: r.pdu,
    connector: r.connector,
    state: r.state,
    error: r.error,
    smscId: r.smsc_id,
    smscIdRaw: r.smsc_id_raw,
    submittedAt: r.submitted_at,
    doneAt: r.done_at,
  };
}

export class Ledger {
  private readonly q;

  private readonly nextId: () => number | null;

  /**
   * `nextId` allocates row numbers (src/messages/ids.ts; the gateway always passes it); without it
   * SQLite numbers the rows (tests of other units and tools).
   */
  constructor(db: Db, options: { nextId?: () => number } = {}) {
    this.nextId = options.nextId ?? (() => null);
    this.q = {
      insert: db.prepare(
        `INSERT INTO messages (id, account_id, origin, source_addr, dest_addr, registered_delivery, pdu, route_id, connectors, state, next_at, expires_at, submitted_at, msg, part, parts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`,
      ),
      // Only a message still queued: one purged with its account (DELETED) while on the wire stays ended.
      sent: db.prepare(
        'UPDATE messages SET state = 1, connector = ?, smsc_id = ?, smsc_id_raw = ?, attempts = attempts + 1, sent_at = ? WHERE id = ? AND state = 0',
      ),
      retry: db.prepare('UPDATE messages SET attempts = attempts + 1, next_at = ?, error = ? WHERE id = ?'),
      final: db.prepare('UPDATE messages SET state = ?, error = ?, done_at = ?, connector = COALESCE(?, connector) WHERE id = ? AND state < 2'),
      receipt: db.prepare('UPDATE messages SET state = ?, error = ?, done_at = ? WHERE id = ? AND state < 2'),
      // Carriers reuse ids in time: the newest message still waiting wins. Found and updated in one statement.
      receiptBySmscId: db.prepare(
        `UPDATE messages SET state = ?, error = ?, done_at = ?
         WHERE id = (SELECT id FROM messages INDEXED BY messages_awaiting_receipt WHERE connector = ? AND smsc_id = ? AND state = 1 ORDER BY id DESC LIMIT 1)
         RETURNING id, account_id AS accountId, origin, pdu, submitted_at AS submittedAt`,
      ),
      awaiting: db.prepare(
        'SELECT id, account_id AS accountId, origin, pdu, submitted_at AS submittedAt FROM messages INDEXED BY messages_awaiting_receipt WHERE connector = ? AND smsc_id = ? AND state = 1 ORDER BY id DESC LIMIT 1',
      ),
      byId: db.prepare('SELECT * FROM messages WHERE id = ?'),
      // The first part of a message its sender split may name itself by its id alone (msg NULL).
      partsOf: db.prepare('SELECT * FROM messages WHERE msg = ? OR id = ? ORDER BY part, id'),
      queuedPage: db.prepare(
        'SELECT id, account_id, origin, pdu, connectors, attempts, next_at, expires_at, submitted_at, msg FROM messages WHERE id >= ? AND id <= ? AND state = 0 ORDER BY id LIMIT ?',
      ),
      expiredQueued: db.prepare(
        'SELECT id, account_id AS accountId, origin, pdu, submitted_at AS submittedAt FROM messages WHERE state = 0 AND expires_at <= ? LIMIT ?',
      ),
      countQueued: db.prepare('SELECT COUNT(*) FROM messages WHERE state = 0').pluck(),
      maxId: db.prepare('SELECT COALESCE(MAX(id), 0) FROM messages').pluck(),
      park: db.prepare('INSERT INTO parked_receipts (connector, smsc_id, receipt, received_at) VALUES (?, ?, ?, ?)'),
      parked: db.prepare('SELECT id, receipt FROM parked_receipts WHERE connector = ? AND smsc_id = ? AND received_at >= ?'),
      unpark: db.prepare('DELETE FROM parked_receipts WHERE id = ?'),
      prune: db.prepare('DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE done_at IS NOT NULL AND done_at < ? LIMIT ?)'),
      pruneParked: db.prepare('DELETE FROM parked_receipts WHERE received_at < ?'),
      dropBodies: db.prepare(
        `UPDATE messages SET pdu = X'', body_dropped_at = ?
         WHERE id IN (SELECT id FROM messages INDEXED BY messages_body_kept WHERE done_at IS NOT NULL AND body_dropped_at IS NULL AND done_at <= ? LIMIT ?)`,
      ),
      headPart: db.prepare('UPDATE messages SET msg = ? WHERE id = ?'),
      unanswered: db.prepare('SELECT * FROM messages WHERE state = 1 AND expires_at < ? LIMIT ?'),
      replacePdu: db.prepare('UPDATE messages SET pdu = ?, registered_delivery = ?, next_at = COALESCE(?, next_at) WHERE id = ? AND state = 0'),
      // Queued messages due later than their submit (scheduled, or waiting to retry), by due time, after (at, id).
      duePage: db.prepare(
        `SELECT id, account_id, origin, pdu, connectors, attempts, next_at, expires_at, submitted_at, msg FROM messages INDEXED BY messages_due
         WHERE state = 0 AND next_at > submitted_at AND next_at <= ? AND (next_at, id) > (?, ?) ORDER BY next_at, id LIMIT ?`,
      ),
      nextDue: db.prepare('SELECT MIN(next_at) FROM messages INDEXED BY messages_due WHERE state = 0 AND next_at > submitted_at AND next_at > ?').pluck(),
      counts: db.prepare('SELECT state, COUNT(*) AS n FROM messages GROUP BY state'),
      anyParked: db.prepare('SELECT EXISTS (SELECT 1 FROM parked_receipts)').pluck(),
    };
    this.mayHaveParked = this.q.anyParked.get() === 1;
  }

  /**
   * False only when parked_receipts is surely empty: then recording a carrier id needs no lookup
   * there. Set by park(), recomputed by prune(); never false while a receipt is parked.
   */
  private mayHaveParked: boolean;

  /** Stores an accepted message of one part; returns its id (the gateway's message_id). */
  insert(m: NewMessage): number {
    const r = this.q.insert.run(
      this.nextId(),
      m.accountId,
      m.origin ?? 'smpp',
      m.sourceAddr,
      m.destAddr,
      m.registeredDelivery,
      m.pdu,
      m.routeId,
      m.connectors.join(','),
      m.dueAt ?? m.now,
      m.expiresAt,
      m.now,
      m.msg ?? null,
      m.part ?? 0,
      m.parts ?? 1,
    );
    return Number(r.lastInsertRowid);
  }

  /**
   * Stores a message of several parts (`pdus`, one submit_sm each, in order; `m.pdu` is ignored);
   * returns the parts' ids, the first of which is the message's.
   */
  insertParts(m: NewMessage, pdus: readonly Buffer[]): number[] {
    if (pdus.length === 1) return [this.insert({ ...m, pdu: pdus[0]! })];
    const connectors = m.connectors.join(',');
    const ids: number[] = [];
    for (let part = 0; part < pdus.length; part++) {
      const r = this.q.insert.run(
        this.nextId(),
        m.accountId,
        m.origin ?? 'smpp',
        m.sourceAddr,
        m.destAddr,
        m.registeredDelivery,
        pdus[part]!,
        m.routeId,
        connectors,
        m.dueAt ?? m.now,
        m.expiresAt,
        m.now,
        ids[0] ?? null,
        part,
        pdus.length,
      );
      ids.push(Number(r.lastInsertRowid));
    }
    // The first part learns it heads a message once its own id is known.
    this.q.headPart.run(ids[0]!, ids[0]!);
    return ids;
  }

  /** The parts of message `msg` (its first part's id) stored so far, in order; one record for a message of one part. */
  partsOf(msg: number): MessageRecord[] {
    return (this.q.partsOf.all(msg, msg) as RecordRow[]).map(toRecord).filter((r) => r.msg === msg);
  }

  /** The SMSC accepted it: record its id (folded and raw). */
  /** `smscId` null: the carrier gave no usable id (no receipt can match; the message ends by its validity). */
  markSent(id: number, connector: string, smscId: string | null, smscIdRaw: string | null, now: number): void {
    this.q.sent.run(connector, smscId, smscIdRaw, now, id);
  }

  /** A temporary failure: try again at `nextAt`. */
  markRetry(id: number, nextAt: number, error: number): void {
    this.q.retry.run(nextAt, error, id);
  }

  /** Ends a message's life in `state` (REJECTED, UNDELIVERABLE, EXPIRED, DELETED, …). */
  /** False if the message had reached a final state already. */
  markFinal(id: number, state: number, error: number | null, now: number, connector: string | null = null): boolean {
    return this.q.final.run(state, error, now, connector, id).changes > 0;
  }

  /** Messages sent and still without a final receipt after `before` (their validity): at most `limit`. */
  unanswered(before: number, limit: number): MessageRecord[] {
    return (this.q.unanswered.all(before, limit) as RecordRow[]).map(toRecord);
  }

  /** Applies a receipt's state; false if the message had already reached a final state. */
  applyReceipt(id: number, state: number, error: number | null, now: number): boolean {
    const done = state >= 2 ? now : null;
    return this.q.receipt.run(state, error, done, id).changes > 0;
  }

  /**
   * Applies a receipt's state to the message sent through `connector` as (folded) `smscId` that is
   * still waiting for one; returns it, or undefined if there is none.
   */
  applyReceiptBySmscId(connector: string, smscId: string, state: number, error: number | null, now: number): AwaitingReceipt | undefined {
    return this.q.receiptBySmscId.get(state, error, state >= 2 ? now : null, connector, smscId) as AwaitingReceipt | undefined;
  }

  /** The message sent through `connector` as (folded) `smscId` and still waiting for its receipt. */
  awaitingReceipt(connector: string, smscId: string): AwaitingReceipt | undefined {
    return this.q.awaiting.get(connector, smscId) as AwaitingReceipt | undefined;
  }

  get(id: number): MessageRecord | undefined {
    const row = this.q.byId.get(id) as RecordRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Messages still queued here with ids from `fromId` to `toId`, oldest first, at most `limit` (paged into memory). */
  queuedPage(fromId: number, toId: number, limit: number): QueuedMessage[] {
    return (this.q.queuedPage.all(fromId, toId, limit) as QueuedRow[]).map(fromQueuedRow);
  }

  /** Queued messages whose validity ran out by `now`, at most `limit`. */
  expiredQueued(now: number, limit: number): AwaitingReceipt[] {
    return this.q.expiredQueued.all(now, limit) as AwaitingReceipt[];
  }

  countQueued(): number {
    return this.q.countQueued.get() as number;
  }

  /** The highest message id so far (0 for none). */
  maxId(): number {
    return this.q.maxId.get() as number;
  }

  /** Keeps a receipt whose submit_sm_resp has not been recorded yet. */
  park(connector: string, smscId: string, receiptJson: string, now: number): void {
    this.q.park.run(connector, smscId, receiptJson, now);
    this.mayHaveParked = true;
  }

  /** Takes the receipts parked for an id since `since` (removing them); older ones are left to prune. */
  takeParked(connector: string, smscId: string, since = 0): string[] {
    if (!this.mayHaveParked) return [];
    const rows = this.q.parked.all(connector, smscId, since) as ParkedReceipt[];
    for (const r of rows) this.q.unpark.run(r.id);
    return rows.map((r) => r.receipt);
  }

  /**
   * Deletes final messages done before `before` (at most `limit`, so one call never holds the
   * event loop for long), and parked receipts received before `parkedBefore` that never matched.
   */
  prune(before: number, limit = 10_000, parkedBefore = before): number {
    this.q.pruneParked.run(parkedBefore);
    this.mayHaveParked = this.q.anyParked.get() === 1;
    return this.q.prune.run(before, limit).changes;
  }

  /**
   * Drops the body (the stored submit_sm, text and all) of final messages done by `doneBy`, at most
   * `limit`; the row stays (state, addresses, times, carrier ids). Nothing reads a final message's
   * body: its receipt was built, with its own text: copy, when it became final.
   */
  dropBodies(doneBy: number, now: number, limit = 5_000): number {
    return this.q.dropBodies.run(now, doneBy, limit).changes;
  }

  /** replace_sm of a message still queued here (`dueAt`: its new schedule). */
  replacePdu(id: number, pdu: Buffer, registeredDelivery: number, dueAt: number | null = null): boolean {
    return this.q.replacePdu.run(pdu, registeredDelivery, dueAt, id).changes > 0;
  }

  /** Queued messages due by `now` later than their submit, after (`afterAt`, `afterId`) in due order, at most `limit`. */
  duePage(now: number, afterAt: number, afterId: number, limit: number): QueuedMessage[] {
    return (this.q.duePage.all(now, afterAt, afterId, limit) as QueuedRow[]).map(fromQueuedRow);
  }

  /** The earliest due time after `after` of a queued message due later than its submit (undefined: none). */
  nextDue(after: number): number | undefined {
    return (this.q.nextDue.get(after) as number | null) ?? undefined;
  }

  /** Messages by state. */
  counts(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const r of this.q.counts.all() as Array<{ state: number; n: number }>) out[r.state] = r.n;
    return out;
  }
}

export { MessageState };
