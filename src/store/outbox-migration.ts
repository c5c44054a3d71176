// Schema 7: outbox items become structured records (store/outbox.ts) instead of encoded deliver_sm.
// Each stored deliver_sm is read back into its fields. A receipt the gateway wrote (its text of
// SMPP 3.4 Appendix B and its receipted_message_id and message_state TLVs, exactly) keeps its
// fields, so it is rendered as before, its id now in the account's format at send time; any other
// receipt is kept as it was (body and TLVs). A blob that is no deliver_sm could never have been
// sent (delivery removed such items on their first try): it is dropped here. The fields a
// deliver_sm leaves empty (schedule_delivery_time, validity_period, replace_if_present_flag,
// sm_default_msg_id: SMPP 3.4 §4.6.1) are not kept.
// Self-contained on purpose: a migration must not change when the code it once called does.
import { decode } from '../smpp/codec.js';
import type { PduOf } from '../smpp/pdu.js';
import type { Db } from './db.js';

/** A record as this step writes it (the columns of TABLE). */
interface Record7 {
  kind: 'dlr' | 'mo';
  pdu: PduOf<'deliver_sm'>;
  receipt: { state: number; err: string; submittedAt: number; doneAt: number; text: string } | null;
}

const TABLE = `
CREATE TABLE outbox_v7 (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id          INTEGER NOT NULL,
  kind                TEXT NOT NULL CHECK (kind IN ('dlr', 'mo')),
  source_addr         TEXT NOT NULL,
  source_ton          INTEGER NOT NULL DEFAULT 0,
  source_npi          INTEGER NOT NULL DEFAULT 0,
  dest_addr           TEXT NOT NULL,
  dest_ton            INTEGER NOT NULL DEFAULT 0,
  dest_npi            INTEGER NOT NULL DEFAULT 0,
  service_type        TEXT NOT NULL DEFAULT '',
  esm_class           INTEGER NOT NULL DEFAULT 0,
  protocol_id         INTEGER NOT NULL DEFAULT 0,
  priority_flag       INTEGER NOT NULL DEFAULT 0,
  registered_delivery INTEGER NOT NULL DEFAULT 0,
  data_coding         INTEGER NOT NULL DEFAULT 0,
  body                BLOB NOT NULL,              -- an MO's text as sent; empty for a rendered receipt
  tlvs                BLOB,                       -- wire form (tag, length, value)…; NULL: none
  message_id          INTEGER,                    -- a receipt's message (ledger row)
  receipt_state       INTEGER,                    -- a receipt's fields; NULL: an MO, or a receipt kept as stored
  receipt_err         TEXT,
  receipt_text        TEXT,
  submitted_at        INTEGER,
  done_at             INTEGER,
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_at             INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  created_at          INTEGER NOT NULL
) STRICT;
`;

const STATS = ['', 'ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD'];
const RECEIPT_TEXT = /^id:(\S+) sub:001 dlvrd:(00[01]) submit date:(\d{10}) done date:(\d{10}) stat:([A-Z]+) err:([0-9A-Za-z]{3}) text:([\s\S]*)$/;
const TAG_RECEIPTED_ID = 0x001e;
const TAG_MESSAGE_STATE = 0x0427;

/** YYMMDDhhmm (UTC) as milliseconds: formatted again, it reads the same. */
function receiptTime(s: string): number {
  const n = (i: number) => Number(s.slice(i, i + 2));
  return Date.UTC(2000 + n(0), n(2) - 1, n(4), n(6), n(8));
}

/** The fields of a receipt the gateway wrote, or null when it is not exactly one. */
function receiptFields(pdu: PduOf<'deliver_sm'>, messageId: number | null): Record7['receipt'] {
  const m = RECEIPT_TEXT.exec(pdu.short_message.toString('latin1'));
  const tlvs = pdu.tlvs ?? [];
  if (!m || messageId === null || tlvs.length !== 2 || pdu.data_coding !== 0 || pdu.esm_class !== 0x04) return null;
  const [, id, dlvrd, submit, done, stat, err, text] = m as unknown as [string, string, string, string, string, string, string, string];
  const idTlv = tlvs[0]!;
  const stateTlv = tlvs[1]!;
  if (idTlv.tag !== TAG_RECEIPTED_ID || !idTlv.value.equals(Buffer.from(`${id}\0`, 'latin1'))) return null;
  if (stateTlv.tag !== TAG_MESSAGE_STATE || stateTlv.value.length !== 1) return null;
  const state = stateTlv.value[0]!;
  if (STATS[state] !== stat || (dlvrd === '001') !== (state === 2) || text.length > 20) return null;
  if (pdu.service_type !== '' || pdu.protocol_id !== 0 || pdu.priority_flag !== 0 || pdu.registered_delivery !== 0) return null;
  return { state, err, submittedAt: receiptTime(submit), doneAt: receiptTime(done), text };
}

interface OldRow {
  id: number;
  account_id: number;
  kind: 'dlr' | 'mo';
  pdu: Buffer;
  message_id: number | null;
  attempts: number;
  next_at: number;
  expires_at: number;
  created_at: number;
}

function recordOf(row: OldRow): Record7 | undefined {
  try {
    const pdu = decode(row.pdu);
    if (pdu.command !== 'deliver_sm') return undefined;
    return { kind: row.kind, pdu, receipt: row.kind === 'dlr' ? receiptFields(pdu, row.message_id) : null };
  } catch {
    return undefined;
  }
}

/** TLVs in the column's wire form (tag, length, value); null when none. */
function packTlvs(tlvs: ReadonlyArray<{ tag: number; value: Buffer }>): Buffer | null {
  if (tlvs.length === 0) return null;
  return Buffer.concat(tlvs.flatMap((t) => [Buffer.from([t.tag >> 8, t.tag & 0xff, t.value.length >> 8, t.value.length & 0xff]), t.value]));
}

function valuesOf(row: OldRow, r: Record7): unknown[] {
  const { pdu, receipt: rc } = r;
  return [
    row.id,
    row.account_id,
    r.kind,
    pdu.source_addr,
    pdu.source_addr_ton,
    pdu.source_addr_npi,
    pdu.destination_addr,
    pdu.dest_addr_ton,
    pdu.dest_addr_npi,
    pdu.service_type,
    pdu.esm_class,
    pdu.protocol_id,
    pdu.priority_flag,
    pdu.registered_delivery,
    pdu.data_coding,
    // A receipt with its fields is rendered from them: no body, no TLVs kept.
    rc ? Buffer.alloc(0) : Buffer.from(pdu.short_message),
    rc ? null : packTlvs(pdu.tlvs ?? []),
    row.message_id,
    rc ? rc.state : null,
    rc ? rc.err : null,
    rc ? rc.text : null,
    rc ? rc.submittedAt : null,
    rc ? rc.doneAt : null,
    row.attempts,
    row.next_at,
    row.expires_at,
    row.created_at,
  ];
}

const COLUMNS = `id, account_id, kind, source_addr, source_ton, source_npi, dest_addr, dest_ton, dest_npi, service_type, esm_class, protocol_id,
  priority_flag, registered_delivery, data_coding, body, tlvs, message_id, receipt_state, receipt_err, receipt_text, submitted_at, done_at,
  attempts, next_at, expires_at, created_at`;

export function outboxRecords(db: Db): void {
  db.exec(TABLE);
  const insert = db.prepare(`INSERT INTO outbox_v7 (${COLUMNS}) VALUES (${'?, '.repeat(26)}?)`);
  const page = db.prepare('SELECT * FROM outbox WHERE id > ? ORDER BY id LIMIT 1000');
  // A page at a time: an outbox nobody read can be large.
  for (let after = 0; ; ) {
    const rows = page.all(after) as OldRow[];
    if (rows.length === 0) break;
    for (const row of rows) {
      const record = recordOf(row);
      if (record) insert.run(...valuesOf(row, record));
    }
    after = rows[rows.length - 1]!.id;
  }
  // Ids are never reused: the new table counts on from where the old one had got.
  const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").pluck().get() as number | undefined;
  db.exec('DROP TABLE outbox; ALTER TABLE outbox_v7 RENAME TO outbox;');
  if (seq !== undefined) {
    db.prepare("DELETE FROM sqlite_sequence WHERE name = 'outbox'").run();
    db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)").run(seq);
  }
  db.exec('CREATE INDEX outbox_account ON outbox (account_id); CREATE INDEX outbox_expires ON outbox (expires_at);');
}
