import type { Migration } from './db.js';
import { outboxRecords } from './outbox-migration.js';

// Schema migrations, in order. Never edit a shipped step: add the next one.
// Times are milliseconds since the epoch (INTEGER). Messages keep their submit_sm as the encoded
// PDU (TLVs and all, byte for byte) plus the columns that queries need.

const V1 = `
CREATE TABLE config_version (version INTEGER NOT NULL);
INSERT INTO config_version VALUES (0);

CREATE TABLE accounts (
  system_id     TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  tps           REAL NOT NULL DEFAULT 0,          -- 0: no limit
  window        INTEGER NOT NULL DEFAULT 10,
  max_binds     INTEGER NOT NULL DEFAULT 4,
  allow         TEXT NOT NULL DEFAULT '',         -- CIDRs, comma separated; empty: any address
  bind_types    TEXT NOT NULL DEFAULT 'tx,rx,trx',
  id_format     TEXT NOT NULL DEFAULT 'hex' CHECK (id_format IN ('hex', 'dec')),
  enabled       INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE connectors (
  id          TEXT PRIMARY KEY,
  host        TEXT NOT NULL,
  port        INTEGER NOT NULL,
  system_id   TEXT NOT NULL,
  password    TEXT NOT NULL,                      -- needed to bind; the file is 0600
  system_type TEXT NOT NULL DEFAULT '',
  bind        TEXT NOT NULL DEFAULT 'trx' CHECK (bind IN ('trx', 'txrx')),
  tps         REAL NOT NULL DEFAULT 0,
  window      INTEGER NOT NULL DEFAULT 10,
  tls         INTEGER NOT NULL DEFAULT 0,
  dlr_id      TEXT NOT NULL DEFAULT 'auto' CHECK (dlr_id IN ('hex', 'dec', 'auto')),
  enabled     INTEGER NOT NULL DEFAULT 1,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE mt_routes (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  ord        INTEGER NOT NULL DEFAULT 100,
  kind       TEXT NOT NULL DEFAULT 'static' CHECK (kind IN ('static', 'roundrobin', 'weighted', 'failover')),
  connectors TEXT NOT NULL,                       -- id[:weight], comma separated
  account    TEXT,                                -- NULL: any account
  prefix     TEXT,                                -- destination prefix; NULL: any
  source     TEXT,                                -- source prefix, or /regex/; NULL: any
  time_from  TEXT,                                -- HH:MM (UTC) window; NULL: always
  time_to    TEXT,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE mo_routes (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  ord           INTEGER NOT NULL DEFAULT 100,
  account       TEXT NOT NULL,
  short_code    TEXT,                             -- destination address; NULL: any
  keyword       TEXT,                             -- first word, upper case; NULL: any
  source_prefix TEXT,
  connector     TEXT,                             -- connector the MO came in on; NULL: any
  created_at    INTEGER NOT NULL
) STRICT;

-- The ledger: one row per accepted MT message.
CREATE TABLE messages (
  id           INTEGER PRIMARY KEY AUTOINCREMENT, -- the gateway's message_id (never reused)
  account      TEXT NOT NULL,
  source_addr  TEXT NOT NULL,
  dest_addr    TEXT NOT NULL,
  registered_delivery INTEGER NOT NULL,
  pdu          BLOB NOT NULL,                     -- the submit_sm as received
  route_id     INTEGER,
  connectors   TEXT NOT NULL,                     -- candidates chosen by the route, in order
  connector    TEXT,                              -- the one it went out on
  state        INTEGER NOT NULL,                  -- see store/ledger.ts MessageState
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_at      INTEGER NOT NULL,                  -- when a queued message may be sent
  expires_at   INTEGER NOT NULL,
  smsc_id      TEXT,                              -- the carrier's id, normalised
  smsc_id_raw  TEXT,
  error        INTEGER,                           -- last command_status or receipt err
  submitted_at INTEGER NOT NULL,
  sent_at      INTEGER,
  done_at      INTEGER
) STRICT;
CREATE INDEX messages_queued ON messages (next_at) WHERE state = 0;
-- Carriers reuse ids in time (and simulators on restart): not unique; the newest row wins.
CREATE INDEX messages_smsc_id ON messages (connector, smsc_id) WHERE smsc_id IS NOT NULL;
CREATE INDEX messages_done ON messages (done_at) WHERE done_at IS NOT NULL;

-- Receipts that arrived before the submit_sm_resp they belong to was recorded.
CREATE TABLE parked_receipts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  connector   TEXT NOT NULL,
  smsc_id     TEXT NOT NULL,
  receipt     TEXT NOT NULL,                      -- JSON of the parsed receipt
  received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX parked_receipts_id ON parked_receipts (connector, smsc_id);

-- deliver_sm (receipts and MOs) waiting for a bound receiver of their account.
CREATE TABLE outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  account     TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('dlr', 'mo')),
  pdu         BLOB NOT NULL,                      -- the deliver_sm to send (sequence number set at send)
  message_id  INTEGER,
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox (account, next_at);
`;

// Sent messages still without a final receipt are swept by expiry.
const V2 = `
CREATE INDEX messages_enroute ON messages (expires_at) WHERE state = 1;
`;

// Receipts are matched only to messages still waiting for one (state 1): the index holds just those,
// so its size follows the messages in flight, not the retained history. Queued messages are paged
// into memory by id (the rowid) and swept by expiry; the outbox is paged per account in id order
// and swept by expiry.
const V3 = `
DROP INDEX messages_queued;
CREATE INDEX messages_queued_expiry ON messages (expires_at) WHERE state = 0;
DROP INDEX messages_smsc_id;
CREATE INDEX messages_awaiting_receipt ON messages (connector, smsc_id) WHERE state = 1;
DROP INDEX outbox_due;
CREATE INDEX outbox_account ON outbox (account);
CREATE INDEX outbox_expires ON outbox (expires_at);
`;

// Accounts get an internal id that is never reused: messages and outbox items belong to that id,
// so an account removed and re-created under the same system_id never sees the old one's data. A
// removed account stays as a row (removed_at set, no password) so its messages can still be
// billed; system_id is unique among live accounts only. Accounts removed before this step that
// still own rows come back as such tombstones. A final message's body (its text: OTP codes) is
// dropped after store.bodyRetentionHours: pdu then holds an empty blob and body_dropped_at says
// when; messages_body_kept lists the final messages that still have one.
const V4 = `
CREATE TABLE accounts_v4 (
  id            INTEGER PRIMARY KEY AUTOINCREMENT, -- internal, never reused
  system_id     TEXT NOT NULL,
  password_hash TEXT NOT NULL,                     -- '' once removed
  tps           REAL NOT NULL DEFAULT 0,
  window        INTEGER NOT NULL DEFAULT 10,
  max_binds     INTEGER NOT NULL DEFAULT 4,
  allow         TEXT NOT NULL DEFAULT '',
  bind_types    TEXT NOT NULL DEFAULT 'tx,rx,trx',
  id_format     TEXT NOT NULL DEFAULT 'hex' CHECK (id_format IN ('hex', 'dec')),
  enabled       INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  removed_at    INTEGER                            -- NULL: live
) STRICT;
INSERT INTO accounts_v4 (system_id, password_hash, tps, window, max_binds, allow, bind_types, id_format, enabled, created_at, updated_at)
  SELECT system_id, password_hash, tps, window, max_binds, allow, bind_types, id_format, enabled, created_at, updated_at FROM accounts ORDER BY created_at, system_id;
INSERT INTO accounts_v4 (system_id, password_hash, enabled, created_at, updated_at, removed_at)
  SELECT DISTINCT account, '', 0, 0, 0, 0 FROM (SELECT account FROM messages UNION SELECT account FROM outbox)
  WHERE account NOT IN (SELECT system_id FROM accounts);
DROP TABLE accounts;
ALTER TABLE accounts_v4 RENAME TO accounts;
CREATE UNIQUE INDEX accounts_live ON accounts (system_id) WHERE removed_at IS NULL;

ALTER TABLE messages ADD COLUMN account_id INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET account_id = (SELECT id FROM accounts WHERE accounts.system_id = messages.account);
ALTER TABLE messages DROP COLUMN account;
ALTER TABLE messages ADD COLUMN body_dropped_at INTEGER;
CREATE INDEX messages_body_kept ON messages (done_at) WHERE done_at IS NOT NULL AND body_dropped_at IS NULL;

DROP INDEX outbox_account;
ALTER TABLE outbox ADD COLUMN account_id INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET account_id = (SELECT id FROM accounts WHERE accounts.system_id = outbox.account);
ALTER TABLE outbox DROP COLUMN account;
CREATE INDEX outbox_account ON outbox (account_id);
`;

// What a response timeout means on a connector (issue 10): reconnect (the default: after
// smsc.timeoutsBeforeRebind timeouts in a row, enquire_link and bind again), requeue (send again,
// no rebind), wait (never send again: a late answer is taken, none leaves the message sent without
// a carrier id).
const V5 = `
ALTER TABLE connectors ADD COLUMN on_timeout TEXT NOT NULL DEFAULT 'reconnect' CHECK (on_timeout IN ('reconnect', 'requeue', 'wait'));
`;

// Messages of parts, and ids that say nothing of the traffic (issue 11). A row of `messages` is now
// one part of a message: its own carrier connector, carrier id, state and receipt. A message of
// one part is one row (msg NULL); the parts of a longer one share msg, the id of their first part,
// and number themselves part 0..parts-1. Where a message came from (origin) decides who hears of
// its receipts: a system message (a compliance reply) puts none in any outbox. Row numbers are
// allocated by src/messages/ids.ts from now on; meta keeps its key, the highest row number handed
// out before (shown as they were) and the last epoch taken.
const V6 = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value ANY
) STRICT;
INSERT INTO meta VALUES ('ids.key', randomblob(16));
INSERT INTO meta VALUES ('ids.legacy_max', MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), (SELECT COALESCE(MAX(id), 0) FROM messages)));
INSERT INTO meta VALUES ('ids.epoch', 0);
ALTER TABLE messages ADD COLUMN msg INTEGER;
ALTER TABLE messages ADD COLUMN part INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN parts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE messages ADD COLUMN origin TEXT NOT NULL DEFAULT 'smpp' CHECK (origin IN ('smpp', 'http', 'system'));
CREATE INDEX messages_parts ON messages (msg) WHERE msg IS NOT NULL;
`;

// Outbox items as structured records (kind, addresses, body, coding, TLVs, receipt fields) rendered
// by the receiver when sent, instead of encoded deliver_sm: see store/outbox-migration.ts.
const V7: Migration = outboxRecords;

// Fair, prioritised carrier queues and scheduled delivery: an account's priority_flag
// is honoured up to its max_priority (0: every message in the normal lane); a connector forwards
// priority_flag to its carrier (1, as before) or sends 0, and forwards schedule_delivery_time (as
// before) or holds the message until then ('hold'). Messages due later (next_at after their
// submit: scheduled, or waiting to retry) are found by due time; the ones sent at once stay out of
// that index.
const V8 = `
ALTER TABLE accounts ADD COLUMN max_priority INTEGER NOT NULL DEFAULT 0 CHECK (max_priority BETWEEN 0 AND 3);
ALTER TABLE connectors ADD COLUMN forward_priority INTEGER NOT NULL DEFAULT 1 CHECK (forward_priority IN (0, 1));
ALTER TABLE connectors ADD COLUMN schedule TEXT NOT NULL DEFAULT 'forward' CHECK (schedule IN ('forward', 'hold'));
CREATE INDEX messages_due ON messages (next_at, id) WHERE state = 0 AND next_at > submitted_at;
`;

// Message content (issue 12): what data_coding 0 means to an account and to a carrier (text is
// transcoded between them where they differ), an account's opt-in folding of typographic
// characters to GSM, and the most parts a message of an account may have.
const V9 = `
ALTER TABLE accounts ADD COLUMN dc0 TEXT NOT NULL DEFAULT 'gsm' CHECK (dc0 IN ('gsm', 'gsm-packed', 'latin1', 'ascii'));
ALTER TABLE accounts ADD COLUMN fold INTEGER NOT NULL DEFAULT 0 CHECK (fold IN (0, 1));
ALTER TABLE accounts ADD COLUMN max_parts INTEGER NOT NULL DEFAULT 10 CHECK (max_parts BETWEEN 1 AND 255);
ALTER TABLE connectors ADD COLUMN dc0 TEXT NOT NULL DEFAULT 'gsm' CHECK (dc0 IN ('gsm', 'gsm-packed', 'latin1', 'ascii'));
`;

export const MIGRATIONS: readonly Migration[] = [V1, V2, V3, V4, V5, V6, V7, V8, V9];
