// Per-account outboxes: receipts and MOs waiting for a receiver, as structured records (addresses,
// body, coding, TLVs, receipt fields), not as the PDU of one kind of receiver: each receiver renders
// a record its own way when it sends it (an SMPP session: esme/deliver-sm.ts).
// Statements are synchronous, meant to run inside GroupCommit.run.
import type { Tlv } from '../smpp/pdu.js';
import type { Db } from './db.js';

export type OutboxKind = 'dlr' | 'mo';

export interface Address {
  addr: string;
  ton: number;
  npi: number;
}

/** What a receipt says; its text and TLVs are rendered from these when it is sent. */
export interface ReceiptFields {
  state: number;
  /** Three digits: the carrier's err, or our own status in hex. */
  err: string;
  submittedAt: number;
  doneAt: number;
  /** The start of the message the receipt is about (its text: field, up to 20 characters). */
  text: string;
}

/** A receipt or MO as stored. */
export interface OutboxRecord {
  kind: OutboxKind;
  source: Address;
  destination: Address;
  serviceType: string;
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  registeredDelivery: number;
  dataCoding: number;
  /** An MO's text as the carrier sent it; empty for a receipt (rendered from `receipt`). */
  body: Buffer;
  /** Passed on as they came (an MO's); a receipt's own TLVs are rendered, not stored. */
  tlvs: Tlv[];
  /** A receipt's message (the ledger row): its public id is rendered when sent, in the account's format. */
  messageId: number | null;
  /** A receipt's fields; null for an MO, and for a receipt kept as it was stored (body and TLVs as they are). */
  receipt: ReceiptFields | null;
}

export interface OutboxItem extends OutboxRecord {
  id: number;
  /** The account's internal id (never reused). */
  accountId: number;
  attempts: number;
  nextAt: number;
  expiresAt: number;
}

interface Row {
  id: number;
  account_id: number;
  kind: OutboxKind;
  source_addr: string;
  source_ton: number;
  source_npi: number;
  dest_addr: string;
  dest_ton: number;
  dest_npi: number;
  service_type: string;
  esm_class: number;
  protocol_id: number;
  priority_flag: number;
  registered_delivery: number;
  data_coding: number;
  body: Buffer;
  tlvs: Buffer | null;
  message_id: number | null;
  receipt_state: number | null;
  receipt_err: string | null;
  receipt_text: string | null;
  submitted_at: number | null;
  done_at: number | null;
  attempts: number;
  next_at: number;
  expires_at: number;
}

const NO_TLVS: Tlv[] = [];

/** TLVs in their wire form (tag, length, value), as the column keeps them; null when there are none. */
export function packTlvs(tlvs: readonly Tlv[]): Buffer | null {
  if (tlvs.length === 0) return null;
  let size = 0;
  for (const t of tlvs) size += 4 + t.value.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const t of tlvs) {
    out.writeUInt16BE(t.tag, at);
    out.writeUInt16BE(t.value.length, at + 2);
    t.value.copy(out, at + 4);
    at += 4 + t.value.length;
  }
  return out;
}

export function unpackTlvs(bytes: Buffer | null): Tlv[] {
  if (bytes === null || bytes.length === 0) return NO_TLVS;
  const out: Tlv[] = [];
  let at = 0;
  while (at + 4 <= bytes.length) {
    const len = bytes.readUInt16BE(at + 2);
    out.push({ tag: bytes.readUInt16BE(at), value: bytes.subarray(at + 4, at + 4 + len) });
    at += 4 + len;
  }
  return out;
}

/**
 * An item as one object literal, in one property order, whether just added or read back: one
 * hidden class for every item (spreading a record into a wider object cost ~7 µs per receipt).
 */
function item(id: number, accountId: number, r: OutboxRecord, attempts: number, nextAt: number, expiresAt: number): OutboxItem {
  return {
    id,
    accountId,
    kind: r.kind,
    source: r.source,
    destination: r.destination,
    serviceType: r.serviceType,
    esmClass: r.esmClass,
    protocolId: r.protocolId,
    priorityFlag: r.priorityFlag,
    registeredDelivery: r.registeredDelivery,
    dataCoding: r.dataCoding,
    body: r.body,
    tlvs: r.tlvs,
    messageId: r.messageId,
    receipt: r.receipt,
    attempts,
    nextAt,
    expiresAt,
  };
}

const fromRow = (r: Row): OutboxItem =>
  item(
    r.id,
    r.account_id,
    {
      kind: r.kind,
      source: { addr: r.source_addr, ton: r.source_ton, npi: r.source_npi },
      destination: { addr: r.dest_addr, ton: r.dest_ton, npi: r.dest_npi },
      serviceType: r.service_type,
      esmClass: r.esm_class,
      protocolId: r.protocol_id,
      priorityFlag: r.priority_flag,
      registeredDelivery: r.registered_delivery,
      dataCoding: r.data_coding,
      body: r.body,
      tlvs: unpackTlvs(r.tlvs),
      messageId: r.message_id,
      receipt:
        r.receipt_state === null
          ? null
          : { state: r.receipt_state, err: r.receipt_err ?? '000', submittedAt: r.submitted_at ?? 0, doneAt: r.done_at ?? 0, text: r.receipt_text ?? '' },
    },
    r.attempts,
    r.next_at,
    r.expires_at,
  );

export const OUTBOX_COLUMNS = `account_id, kind, source_addr, source_ton, source_npi, dest_addr, dest_ton, dest_npi, service_type, esm_class, protocol_id,
  priority_flag, registered_delivery, data_coding, body, tlvs, message_id, receipt_state, receipt_err, receipt_text, submitted_at, done_at`;

/** The values of OUTBOX_COLUMNS for a record, in order. */
export function outboxValues(accountId: number, r: OutboxRecord): unknown[] {
  const rc = r.receipt;
  return [
    accountId,
    r.kind,
    r.source.addr,
    r.source.ton,
    r.source.npi,
    r.destination.addr,
    r.destination.ton,
    r.destination.npi,
    r.serviceType,
    r.esmClass,
    r.protocolId,
    r.priorityFlag,
    r.registeredDelivery,
    r.dataCoding,
    r.body,
    packTlvs(r.tlvs),
    r.messageId,
    rc ? rc.state : null,
    rc ? rc.err : null,
    rc ? rc.text : null,
    rc ? rc.submittedAt : null,
    rc ? rc.doneAt : null,
  ];
}

/** A receipt whose other columns are all at their defaults (the ones ReceiptService writes). */
function isPlainReceipt(r: OutboxRecord): boolean {
  return (
    r.kind === 'dlr' &&
    r.body.length === 0 &&
    r.tlvs.length === 0 &&
    r.serviceType === '' &&
    r.protocolId === 0 &&
    r.priorityFlag === 0 &&
    r.registeredDelivery === 0 &&
    r.dataCoding === 0
  );
}

export class Outbox {
  private readonly q;

  constructor(db: Db) {
    this.q = {
      add: db.prepare(`INSERT INTO outbox (${OUTBOX_COLUMNS}, next_at, expires_at, created_at) VALUES (${'?, '.repeat(22)}?, ?, ?)`),
      // The receipts the gateway writes (most rows): the columns they leave at their defaults are not bound.
      addReceipt: db.prepare(
        `INSERT INTO outbox (account_id, kind, source_addr, source_ton, source_npi, dest_addr, dest_ton, dest_npi, esm_class, body, message_id,
           receipt_state, receipt_err, receipt_text, submitted_at, done_at, next_at, expires_at, created_at)
         VALUES (?, 'dlr', ?, ?, ?, ?, ?, ?, ?, X'', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      remove: db.prepare('DELETE FROM outbox WHERE id = ?'),
      retry: db.prepare('UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?'),
      all: db.prepare('SELECT * FROM outbox ORDER BY id'),
      page: db.prepare('SELECT * FROM outbox WHERE account_id = ? AND id <= ? ORDER BY id LIMIT ?'),
      expired: db.prepare('SELECT * FROM outbox WHERE expires_at <= ? ORDER BY expires_at LIMIT ?'),
      maxId: db.prepare('SELECT COALESCE(MAX(id), 0) FROM outbox').pluck(),
      count: db.prepare('SELECT account_id, COUNT(*) AS n FROM outbox GROUP BY account_id'),
    };
  }

  add(accountId: number, record: OutboxRecord, now: number, ttlMs: number): OutboxItem {
    const rc = record.receipt;
    const r =
      rc !== null && isPlainReceipt(record)
        ? this.q.addReceipt.run(
            accountId,
            record.source.addr,
            record.source.ton,
            record.source.npi,
            record.destination.addr,
            record.destination.ton,
            record.destination.npi,
            record.esmClass,
            record.messageId,
            rc.state,
            rc.err,
            rc.text,
            rc.submittedAt,
            rc.doneAt,
            now,
            now + ttlMs,
            now,
          )
        : this.q.add.run(...outboxValues(accountId, record), now, now + ttlMs, now);
    return item(Number(r.lastInsertRowid), accountId, record, 0, now, now + ttlMs);
  }

  /** Delivered (the receiver accepted it) or expired: gone. */
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
