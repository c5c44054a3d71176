// The gateway fuzzer shared by test/e2e/fuzz-gateway.test.ts (bounded) and scripts/fuzz-gateway.ts
// (long runs): hostile input through the whole gateway, not just its protocol layer.
//
// One run sets up, in a temp dir:
//   - the SMSC simulator (in this process; receipts at once, MOs through sendMo with hostile texts),
//   - a hostile carrier (in this process, on the project's SmppServer): it answers submits with odd
//     message ids (case, leading zeros, other base, control characters, empty, reused), errors and
//     throttling, sends receipts before and after their submit_sm_resp with mangled ids, stat and
//     err fields, and pushes MOs and receipts (deliver_sm and data_sm) with hostile fields of its
//     own, up to the largest PDU the protocol allows;
//   - the gateway as a child process (`smppgw start`, its SQLite file in the temp dir), with an
//     account, both carriers as connectors, MT routes (catch-all, prefix, failover, weighted, a
//     source regex) and MO routes (short code, keyword, source prefix, connector);
// then binds as the account's ESME over `sessions` connections and sends `count` units, each
// connection keeping up to `window` requests outstanding. A unit is mostly a well-formed
// submit_sm, data_sm, submit_multi, query_sm, cancel_sm or replace_sm with hostile field values;
// some are built malformed by hand, some are mutated, some are other commands, and now and then
// one breaks the framing (the session ends: the connection binds again and goes on). Every
// deliver_sm the gateway sends (receipts, MOs) is checked and answered (mostly OK, sometimes with an
// error, a generic_nack or not at all). Failed binds with hostile credentials go on side connections.
//
// While it runs, the gateway's RSS is sampled (/proc/<pid>/status) and /healthz asked. At the end:
// a fresh ESME must still submit and get its receipts; queues settle; SIGTERM must exit 0; then,
// with the file opened read-only: PRAGMA integrity_check and foreign_key_check, every message id the
// gateway acknowledged is in the ledger, and a sample of the accepted messages is stored exactly
// as sent. Every line the gateway wrote on stdout must be one JSON object (pino), with no raw
// character that breaks a line.
//
// Invariants broken on the wire are Anomalies (kept with the hex of the units concerned); the run's
// verdict is `failures` (empty when every check held).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SmppError } from '../../src/errors.js';
import { SmscSimulator } from '../../src/sim/smsc.js';
import { encodeText, seededRandom } from '../../src/sim/util.js';
import { decode, encode } from '../../src/smpp/codec.js';
import { COMMANDS, COMMANDS_BY_ID, ESME_RINVCMDLEN, Status, TLVS, statusName } from '../../src/smpp/defs.js';
import { Framer } from '../../src/smpp/framer.js';
import type { CommandName, DestAddress, Pdu, PduInput, PduOf, Tlv } from '../../src/smpp/pdu.js';
import { SmppServer } from '../../src/smpp/server.js';
import type { ResponseInit, Session } from '../../src/smpp/session.js';
import { frameEffect, makeUnit, mutate, restamp } from './fuzzer.js';
import { CLI, cli, tempDir } from './gateway-process.js';
import { hostileAddress, hostileShortMessage, hostileSmppTime, hostileText, hostileTlvs, randomBytes, randomPdu } from './random-pdu.js';

// ---- options and results ----------------------------------------------------------------------

export interface GatewayFuzzOptions {
  /** Units to send over all sessions. */
  count: number;
  seed: number;
  /** ESME connections fuzzing at once (default 2). */
  sessions?: number;
  /** Requests outstanding per connection (default 50). */
  window?: number;
  /** Stop sending after this long (reported as stoppedEarly; default none). */
  timeLimitMs?: number;
  /** One MO from the simulator per this many units (default 25; 0: none). */
  moEvery?: number;
  /** One request from the hostile carrier per this many units (default 20; 0: none). */
  carrierEvery?: number;
  /** The gateway's log level (default info). */
  logLevel?: string;
  /** store.synchronous of the gateway (default normal). */
  synchronous?: 'normal' | 'full';
  /** After the last unit, how long queues and outboxes get to empty (default 20 s). */
  settleMs?: number;
  /** RSS sample and /healthz period (default 1 s). */
  sampleMs?: number;
  /** Units sent before the "before" RSS is taken (default min(count / 10, 20,000)). */
  warmupUnits?: number;
  /** Memory checks: growth from the warm-up sample to the end, and the largest sample. */
  maxRssGrowthMB?: number;
  maxRssMB?: number;
  /** A request unanswered this long is an anomaly (default 15 s). */
  stallMs?: number;
  /** Progress lines (about every `progressEvery` units, default 100,000). */
  onProgress?: (line: string) => void;
  progressEvery?: number;
  /** Keep the temp dir (its path is in the summary). */
  keepDir?: boolean;
  /** Known faults to look past (see SKIPPABLE). */
  skip?: readonly Skippable[];
}

/**
 * Known faults a run can look past, each found by this fuzzer: input classes left out, or a check
 * lifted (still counted in the summary).
 *   oversize-mt   no submit_sm or data_sm from the ESME at the 64 KiB limit (the submit_sm made of
 *                 a data_sm is larger than the limit, and so is a queued one after replace_sm)
 *   oversize-mo   no data_sm MO from a carrier at the 64 KiB limit (the deliver_sm made of it is larger)
 *   long-err      no receipt whose err: field has more digits than an integer column holds
 *   log-nel       raw U+0085, U+2028, U+2029 in a log line do not fail the run
 */
export const SKIPPABLE = ['oversize-mt', 'oversize-mo', 'long-err', 'log-nel'] as const;
export type Skippable = (typeof SKIPPABLE)[number];

export interface GatewayAnomaly {
  kind: string;
  connection: number;
  detail: string;
  /** The units concerned (or the last ones sent on the connection), hex, oldest first. */
  units: string[];
}

export interface GatewayFuzzSummary {
  seed: number;
  count: number;
  sent: number;
  bytes: number;
  sentByKind: Record<string, number>;
  fuzzMs: number;
  unitsPerSecond: number;
  totalMs: number;
  stoppedEarly: string | null;
  connections: number;
  /** Why fuzzing connections ended. */
  connectionEnds: Record<string, number>;
  /** Responses to requests lost because their connection ended first. */
  responsesLost: number;
  responses: number;
  responsesByStatus: Record<string, number>;
  responsesByCommand: Record<string, number>;
  /** Message ids the gateway acknowledged (submit_sm, data_sm, each accepted submit_multi destination). */
  acknowledged: number;
  deliverSm: {
    receipts: number;
    receiptsMatched: number;
    /** Receipts for an id never seen acknowledged (its response was lost with its connection). */
    receiptsUnknownId: number;
    mos: number;
    mosMatched: number;
    answered: Record<string, number>;
  };
  simulator: { mosSent: number; moStatuses: Record<string, number>; submits: number; receiptsCreated: number; receiptsAcked: number };
  carrier: {
    submits: number;
    submitAnswers: Record<string, number>;
    receiptsSent: number;
    requestsSent: number;
    /** Statuses the gateway answered the carrier's deliver_sm and data_sm with. */
    answers: Record<string, number>;
    cancels: number;
    replaces: number;
    binds: number;
  };
  hostileBinds: { attempts: number; statuses: Record<string, number> };
  rss: { beforeMB: number | null; afterMB: number | null; maxMB: number; samples: number };
  health: { checks: number; failures: number };
  gateway: { pid: number; aliveAtEnd: boolean; exitCode: number | null; exitSignal: string | null; stderr: string };
  /** The gateway's own view after settling. */
  status: Record<string, unknown> | null;
  /** A fresh ESME after the run: ten submits, their receipts, and the ids whose receipt did not come (with their ledger state). */
  finalCheck: { submitted: number; accepted: number; receipts: number; missing: string[]; missingStates?: string[] } | null;
  db: {
    integrity: string;
    foreignKeyViolations: number;
    messages: number;
    byState: Record<string, number>;
    outbox: number;
    parkedReceipts: number;
    acknowledgedMissing: number;
    sampleChecked: number;
    sampleMismatches: number;
    mismatchExamples: string[];
  } | null;
  logs: {
    lines: number;
    bytes: number;
    notJson: number;
    byLevel: Record<string, number>;
    /** Raw U+0085, U+2028, U+2029 (line breaks to some readers) inside a line. */
    rawLineBreaks: number;
    /** Raw C1 controls (U+0080..U+009F) and DEL inside a line: valid JSON, but terminal escapes. */
    rawControls: number;
    warnings: Record<string, number>;
    /** The first line of each warning. */
    firstWarnings: Record<string, string>;
    errors: Record<string, number>;
    samples: string[];
  };
  anomalyCount: number;
  anomaliesByKind: Record<string, number>;
  anomalies: GatewayAnomaly[];
  dir: string | null;
  failures: string[];
}

const MB = 1024 * 1024;
const MAX_PDU = 64 * 1024;
const MAX_ANOMALIES = 30;
const RECENT_UNITS = 8;
const ACCOUNT = { systemId: 'fuzz', password: 'fuzzpw' };
const PAYLOAD = TLVS.get('message_payload')!.tag;
const RECEIPTED_ID = TLVS.get('receipted_message_id')!.tag;
const MESSAGE_STATE = TLVS.get('message_state')!.tag;
const NETWORK_ERROR = TLVS.get('network_error_code')!.tag;
const UNBIND_ID = COMMANDS.get('unbind')!.id;
/** MT prefixes the routes know: 99 the hostile carrier, 98 failover hostile → sim, 97 weighted. */
const MT_PREFIXES = ['99', '98', '97', '+99', '0'];
/** MO destinations the MO routes know (12345 with a keyword, 55555 any text) and some they do not. */
const MO_SHORT_CODES = ['12345', '12345', '55555', '54321', '4917000000'];
const MO_KEYWORDS = ['VOTE ', 'vote', ' Vote\t', 'VOTE', 'VOTER ', ''];

const int = (rand: () => number, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: () => number, list: readonly T[]): T => list[int(rand, list.length)]!;
const bump = (map: Record<string, number>, key: string, by = 1): void => {
  map[key] = (map[key] ?? 0) + by;
};
const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): number => +(bytes / MB).toFixed(1);

// ---- hostile requests from the ESME -----------------------------------------------------------

function ton(rand: () => number): number {
  return rand() < 0.8 ? pick(rand, [0, 1, 2, 3, 4, 5, 6, 0, 1, 1, 5]) : int(rand, 256);
}

function registeredDelivery(rand: () => number): number {
  return rand() < 0.85 ? pick(rand, [0, 1, 1, 1, 2, 3, 0x11, 0x1d]) : int(rand, 256);
}

function esmClass(rand: () => number): number {
  return rand() < 0.7 ? pick(rand, [0, 0, 0, 0x40, 0x40, 0x03, 0x02]) : int(rand, 256);
}

function dataCoding(rand: () => number): number {
  return rand() < 0.5 ? pick(rand, [0, 0, 1, 3, 4, 8, 8, 0xf0, 0xf4]) : int(rand, 256);
}

/** Ids the gateway gave this run (hex), for query_sm, cancel_sm and replace_sm to aim at. */
class RecentIds {
  private readonly ids: string[] = [];
  private next = 0;

  add(id: string): void {
    if (this.ids.length < 1024) this.ids.push(id);
    else this.ids[this.next++ % 1024] = id;
  }

  /** A recent id (sometimes in another case or with spaces), else a hostile one. */
  target(rand: () => number): string {
    if (this.ids.length > 0 && rand() < 0.75) {
      const id = pick(rand, this.ids);
      const r = rand();
      if (r < 0.7) return id;
      if (r < 0.8) return id.toUpperCase();
      if (r < 0.9) return ` ${id} `;
      return `0${id}`;
    }
    return rand() < 0.5 ? pick(rand, ['', '0', '-1', 'ffffffffffffff', '1fffffffffffff', '20000000000000', '7fffffff', ' ', '0x10', '1e3']) : hostileText(rand, 64);
  }
}

/** What a request was, kept until its response comes. */
interface Track {
  kind: 'submit' | 'multi' | 'replace' | 'cancel';
  /** submit_sm / data_sm: the message as the ledger must hold it (sampled). */
  expect?: PduOf<'submit_sm'>;
  /** submit_multi: destinations. */
  dests?: number;
  /** replace_sm / cancel_sm: the id aimed at. */
  target?: string;
}

interface BuiltUnit {
  bytes: Buffer;
  kind: string;
  track?: Track;
}

function hostileSubmit(rand: () => number): PduInput<'submit_sm'> {
  const esm = esmClass(rand);
  const tlvs = hostileTlvs(rand);
  const payload = tlvs?.some((t) => t.tag === PAYLOAD && t.value.length > 0) ?? false;
  return {
    command: 'submit_sm',
    sequence_number: 1,
    service_type: hostileText(rand, 5),
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: hostileAddress(rand, 20),
    dest_addr_ton: ton(rand),
    dest_addr_npi: ton(rand),
    destination_addr: hostileAddress(rand, 20, MT_PREFIXES),
    esm_class: esm,
    protocol_id: rand() < 0.7 ? 0 : int(rand, 256),
    priority_flag: rand() < 0.8 ? int(rand, 4) : int(rand, 256),
    schedule_delivery_time: hostileSmppTime(rand),
    validity_period: hostileSmppTime(rand),
    registered_delivery: registeredDelivery(rand),
    replace_if_present_flag: rand() < 0.8 ? int(rand, 2) : int(rand, 256),
    data_coding: dataCoding(rand),
    sm_default_msg_id: rand() < 0.8 ? 0 : int(rand, 256),
    short_message: payload && rand() < 0.9 ? Buffer.alloc(0) : hostileShortMessage(rand, (esm & 0x40) !== 0),
    ...(tlvs ? { tlvs } : {}),
  };
}

function hostileDataSm(rand: () => number): PduInput<'data_sm'> {
  const tlvs = hostileTlvs(rand, rand() < 0.85 ? 'always' : 'maybe');
  return {
    command: 'data_sm',
    sequence_number: 1,
    service_type: hostileText(rand, 5),
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: rand() < 0.9 ? hostileAddress(rand, 20) : hostileText(rand, 64),
    dest_addr_ton: ton(rand),
    dest_addr_npi: ton(rand),
    destination_addr: rand() < 0.9 ? hostileAddress(rand, 20, MT_PREFIXES) : hostileText(rand, 64),
    esm_class: esmClass(rand),
    registered_delivery: registeredDelivery(rand),
    data_coding: dataCoding(rand),
    ...(tlvs ? { tlvs } : {}),
  };
}

function hostileMulti(rand: () => number): PduInput<'submit_multi'> {
  const n = rand() < 0.03 ? int(rand, 255) : rand() < 0.05 ? 0 : 1 + int(rand, 5);
  const dest_address: DestAddress[] = [];
  for (let i = 0; i < n; i++) {
    dest_address.push(
      rand() < 0.9
        ? { dest_flag: 1, dest_addr_ton: ton(rand), dest_addr_npi: ton(rand), destination_addr: hostileAddress(rand, 20, MT_PREFIXES) }
        : { dest_flag: 2, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: hostileText(rand, 20) },
    );
  }
  const { destination_addr: _d, dest_addr_ton: _t, dest_addr_npi: _n, ...rest } = hostileSubmit(rand);
  void _d;
  void _t;
  void _n;
  return { ...rest, command: 'submit_multi', dest_address };
}

function hostileQuery(rand: () => number, ids: RecentIds): PduInput<'query_sm'> {
  return { command: 'query_sm', sequence_number: 1, message_id: ids.target(rand), source_addr_ton: ton(rand), source_addr_npi: ton(rand), source_addr: hostileAddress(rand, 20) };
}

function hostileCancel(rand: () => number, ids: RecentIds): PduInput<'cancel_sm'> {
  return {
    command: 'cancel_sm',
    sequence_number: 1,
    service_type: hostileText(rand, 5),
    message_id: rand() < 0.9 ? ids.target(rand) : '',
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: hostileAddress(rand, 20),
    dest_addr_ton: ton(rand),
    dest_addr_npi: ton(rand),
    destination_addr: hostileAddress(rand, 20),
  };
}

function hostileReplace(rand: () => number, ids: RecentIds): PduInput<'replace_sm'> {
  return {
    command: 'replace_sm',
    sequence_number: 1,
    message_id: ids.target(rand),
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: hostileAddress(rand, 20),
    schedule_delivery_time: hostileSmppTime(rand),
    validity_period: hostileSmppTime(rand),
    registered_delivery: registeredDelivery(rand),
    sm_default_msg_id: rand() < 0.8 ? 0 : int(rand, 256),
    short_message: hostileShortMessage(rand, false),
  };
}

/** A submit_sm or data_sm whose whole PDU is `total` bytes (the protocol's limit is 65,536). */
function sizedPdu(rand: () => number, command: 'submit_sm' | 'data_sm', total: number): PduInput<'submit_sm'> | PduInput<'data_sm'> {
  const destination_addr = `4915${String(int(rand, 1e8)).padStart(8, '0')}`;
  const base: PduInput<'submit_sm'> | PduInput<'data_sm'> =
    command === 'submit_sm'
      ? { ...hostileSubmit(rand), destination_addr, validity_period: '', short_message: Buffer.alloc(0), tlvs: [{ tag: PAYLOAD, value: Buffer.alloc(0) }] }
      : { ...hostileDataSm(rand), source_addr: hostileAddress(rand, 20), destination_addr, tlvs: [{ tag: PAYLOAD, value: Buffer.alloc(0) }] };
  const empty = encode(base).length;
  const fill = Math.max(0, total - empty);
  const value = randomBytes(rand, fill, fill);
  return { ...base, tlvs: [{ tag: PAYLOAD, value }] } as PduInput<'submit_sm'> | PduInput<'data_sm'>;
}

/** C-octet string bytes (no check of length or content). */
function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);
}

/**
 * A submit_sm built by hand with one or two faults the codec would refuse to write: an address
 * past its maximum, a time of the wrong length, sm_length not matching the octets, a string without
 * its NUL, a TLV running past the end, or the body cut short. The header is sound (true length).
 */
function malformedSubmit(rand: () => number, seq: number): Buffer {
  const faults = new Set<number>([int(rand, 7)]);
  if (rand() < 0.3) faults.add(int(rand, 7));
  const addr = (fault: boolean, max: number): string => (fault ? hostileText(rand, 80).padEnd(max + 1 + int(rand, 40), '9') : hostileAddress(rand, max - 1));
  const time = (fault: boolean): string => {
    if (!fault) return hostileSmppTime(rand);
    // Digits like a time, but not 16 of them.
    const n = pick(rand, [1, 2, 15, 17, 20]);
    let t = '';
    for (let i = 0; i < n; i++) t += String.fromCharCode(0x30 + int(rand, 10));
    return t;
  };
  const sm = hostileShortMessage(rand, false);
  const smLength = faults.has(3) ? (rand() < 0.5 ? Math.min(255, sm.length + 1 + int(rand, 20)) : Math.max(0, sm.length - 1 - int(rand, 5))) : sm.length;
  const parts: Buffer[] = [
    cstr(hostileText(rand, 5)),
    Buffer.from([ton(rand), ton(rand)]),
    cstr(addr(faults.has(0), 21)),
    Buffer.from([ton(rand), ton(rand)]),
    cstr(addr(faults.has(1), 21)),
    Buffer.from([esmClass(rand), 0, 0]),
    cstr(time(faults.has(2))),
    cstr(time(faults.has(2) && rand() < 0.5)),
    Buffer.from([registeredDelivery(rand), 0, dataCoding(rand), 0, smLength]),
    sm,
  ];
  if (faults.has(4)) {
    // A string without its NUL: the service_type runs into what follows.
    parts[0] = Buffer.from(hostileText(rand, 5) || 'CMT', 'latin1');
  }
  if (faults.has(5)) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(rand() < 0.5 ? PAYLOAD : int(rand, 0x10000), 0);
    h.writeUInt16BE(rand() < 0.5 ? 0xffff : 1 + int(rand, 300), 2);
    parts.push(h, randomBytes(rand, 8));
  }
  let body = Buffer.concat(parts);
  if (faults.has(6)) body = body.subarray(0, int(rand, body.length));
  const header = Buffer.alloc(16);
  header.writeUInt32BE(16 + body.length, 0);
  header.writeUInt32BE(COMMANDS.get('submit_sm')!.id, 4);
  header.writeUInt32BE(0, 8);
  header.writeUInt32BE(seq, 12);
  return Buffer.concat([header, body]);
}

/** Requests from the other side of the link, or not requests at all: answered with an error, or by nothing. */
const OTHER_COMMANDS: readonly CommandName[] = [
  'enquire_link', 'enquire_link', 'deliver_sm', 'deliver_sm_resp', 'generic_nack', 'bind_transceiver', 'bind_transmitter', 'outbind',
  'alert_notification', 'broadcast_sm', 'query_broadcast_sm', 'cancel_broadcast_sm', 'submit_sm_resp', 'data_sm_resp', 'unbind_resp',
];

/**
 * The next unit of a bound fuzzing connection. Well-formed hostile requests carry `seq`; mutated
 * and hand-built ones may carry another (their header decides what the gateway answers).
 */
function nextUnit(rand: () => number, seq: number, ids: RecentIds, sampleRate: number, skip: ReadonlySet<Skippable>): BuiltUnit {
  const r = rand();
  if (r < 0.0003) return makeUnit(rand, 1); // garbage or a bad command_length: the session ends
  if (r < 0.0005) return { kind: 'unbind', bytes: encode({ command: 'unbind', sequence_number: seq }) };
  if (r < 0.003 && !skip.has('oversize-mt')) {
    // At the protocol's size limit: data_sm grows by 7 bytes when the gateway makes it a submit_sm,
    // and a queued submit_sm grows by its new short_message on replace_sm.
    const command = rand() < 0.7 ? 'data_sm' : 'submit_sm';
    const pdu = sizedPdu(rand, command, MAX_PDU - int(rand, 8));
    pdu.sequence_number = seq;
    return { kind: `max-${command}`, bytes: encode(pdu), track: { kind: 'submit' } };
  }
  if (r < 0.04) return { kind: 'malformed', bytes: malformedSubmit(rand, seq) };
  if (r < 0.065) {
    let cmd = pick(rand, OTHER_COMMANDS);
    if (cmd === 'unbind') cmd = 'enquire_link';
    const pdu = randomPdu(rand, cmd);
    pdu.sequence_number = seq;
    return { kind: 'other', bytes: encode(pdu) };
  }
  const q = rand();
  let pdu: PduInput;
  let track: Track | undefined;
  if (q < 0.55) {
    pdu = hostileSubmit(rand);
    track = { kind: 'submit' };
  } else if (q < 0.65) {
    pdu = hostileDataSm(rand);
    track = { kind: 'submit' };
  } else if (q < 0.72) {
    const m = hostileMulti(rand);
    pdu = m;
    track = { kind: 'multi', dests: m.dest_address?.length ?? 0 };
  } else if (q < 0.82) {
    pdu = hostileQuery(rand, ids);
  } else if (q < 0.89) {
    const c = hostileCancel(rand, ids);
    pdu = c;
    track = { kind: 'cancel', target: c.message_id ?? '' };
  } else {
    const rp = hostileReplace(rand, ids);
    pdu = rp;
    track = { kind: 'replace', target: rp.message_id ?? '' };
  }
  pdu.sequence_number = seq;
  let bytes = encode(pdu);
  if (rand() < 0.07) {
    // Mutated: what the gateway sees is decided by the bytes (decoded below when sampled).
    bytes = restamp(mutate(rand, bytes));
    return { kind: `mutated-${pdu.command}`, bytes };
  }
  if (track?.kind === 'submit' && rand() < sampleRate) {
    try {
      track.expect = asStored(decode(bytes));
    } catch {
      // A TLV the codec writes but refuses to read (a zero-length fixed-size one): the gateway refuses it too.
    }
  }
  return { kind: pdu.command, bytes, ...(track ? { track } : {}) };
}

/** A submit_sm or data_sm as the gateway stores it (data_sm becomes a submit_sm with its fields). */
function asStored(pdu: Pdu): PduOf<'submit_sm'> | undefined {
  if (pdu.command === 'submit_sm') return pdu;
  if (pdu.command !== 'data_sm') return undefined;
  return {
    ...pdu, command: 'submit_sm', protocol_id: 0, priority_flag: 0, schedule_delivery_time: '', validity_period: '',
    replace_if_present_flag: 0, sm_default_msg_id: 0, short_message: Buffer.alloc(0),
  };
}

/** For a unit built other than by nextUnit's well-formed branch: what the gateway will make of it. */
function trackOf(bytes: Buffer): Track | undefined {
  let pdu: Pdu;
  try {
    pdu = decode(bytes);
  } catch {
    return undefined;
  }
  if (pdu.command === 'submit_sm' || pdu.command === 'data_sm') return { kind: 'submit' };
  if (pdu.command === 'submit_multi') return { kind: 'multi', dests: pdu.dest_address.length };
  if (pdu.command === 'replace_sm') return { kind: 'replace', target: pdu.message_id };
  return undefined;
}

/** An unbind the gateway will take as one (it decodes), ending the session. */
function isUnbind(bytes: Buffer): boolean {
  if (bytes.readUInt32BE(4) !== UNBIND_ID) return false;
  try {
    decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Where the header of `bytes` says the gateway must answer: a request (or an unknown command id) gets one response. */
function expectsResponse(bytes: Buffer): boolean {
  const def = COMMANDS_BY_ID.get(bytes.readUInt32BE(4));
  return def === undefined || !def.isResponse;
}

// ---- the hostile carrier ----------------------------------------------------------------------

interface CarrierStats {
  submits: number;
  submitAnswers: Record<string, number>;
  receiptsSent: number;
  requestsSent: number;
  answers: Record<string, number>;
  cancels: number;
  replaces: number;
  binds: number;
}

/** A carrier that means harm: see the file comment. */
class HostileCarrier {
  readonly stats: CarrierStats = { submits: 0, submitAnswers: {}, receiptsSent: 0, requestsSent: 0, answers: {}, cancels: 0, replaces: 0, binds: 0 };
  private readonly server: SmppServer;
  private readonly bound = new Set<Session>();
  private readonly ids: string[] = [];
  private counter = 0x1000;
  private outstanding = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly rand: () => number, private readonly moKeys: MoKeys, private readonly skip: ReadonlySet<Skippable>) {
    this.server = new SmppServer({
      host: '127.0.0.1',
      port: 0,
      session: { window: 20, enquireLinkMs: 0, bindTimeoutMs: 0, inboundWindow: 1000 },
      handlers: {
        bind: () => {
          this.stats.binds++;
          return { system_id: 'HOSTILE' };
        },
        request: (pdu, session) => this.onRequest(pdu, session),
        state: (session, state) => {
          if (state.startsWith('bound_')) this.bound.add(session);
          else this.bound.delete(session);
        },
        close: (session) => this.bound.delete(session),
      },
    });
  }

  async start(): Promise<number> {
    return (await this.server.listen()).port;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.server.sessions) s.destroy('fuzz over');
    await this.server.close(1_000);
  }

  get up(): boolean {
    return this.bound.size > 0;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onRequest(pdu: Pdu, session: Session): ResponseInit {
    const rand = this.rand;
    switch (pdu.command) {
      case 'submit_sm': {
        this.stats.submits++;
        const r = rand();
        let status = 0;
        if (r < 0.05) status = Status.ESME_RTHROTTLED!;
        else if (r < 0.08) status = Status.ESME_RMSGQFUL!;
        else if (r < 0.1) status = Status.ESME_RSYSERR!;
        else if (r < 0.13) status = pick(rand, [Status.ESME_RSUBMITFAIL!, Status.ESME_RINVDSTADR!, 0x400, 0xffffffff]);
        bump(this.stats.submitAnswers, statusName(status));
        if (status !== 0) return { command_status: status };
        const id = this.newId();
        if (rand() < 0.9) {
          const receipt = this.receipt(id);
          // Now and then the receipt beats the submit_sm_resp (it is written first).
          if (rand() < 0.15) this.send(session, receipt, 'receipt');
          else this.later(int(rand, 30), () => this.send(session, receipt, 'receipt'));
        }
        return { message_id: id };
      }
      case 'query_sm':
        if (rand() < 0.5) throw new SmppError(Status.ESME_RQUERYFAIL!);
        return { message_id: pdu.message_id, final_date: '', message_state: int(rand, 9), error_code: int(rand, 256) };
      case 'cancel_sm':
        this.stats.cancels++;
        if (rand() < 0.5) throw new SmppError(Status.ESME_RCANCELFAIL!);
        return {};
      case 'replace_sm':
        this.stats.replaces++;
        if (rand() < 0.5) throw new SmppError(Status.ESME_RREPLACEFAIL!);
        return {};
      default:
        throw new SmppError(Status.ESME_RINVCMDID!);
    }
  }

  /** Message ids a carrier should not send but some do. */
  private newId(): string {
    const rand = this.rand;
    const n = this.counter++;
    const r = rand();
    let id: string;
    if (r < 0.5) id = n.toString(16);
    else if (r < 0.62) id = String(n);
    else if (r < 0.7) id = `000${n.toString(16).toUpperCase()}`;
    else if (r < 0.78 && this.ids.length > 0) id = pick(rand, this.ids); // reused
    else if (r < 0.86) id = hostileText(rand, 64);
    else if (r < 0.9) id = '';
    else if (r < 0.95) id = n.toString(16).padStart(64, '0');
    else id = ` ${n} `;
    if (this.ids.length < 256) this.ids.push(id);
    else this.ids[n % 256] = id;
    return id;
  }

  /** A receipt for `id`, written the way some carrier would, or mangled. */
  private receipt(id: string): PduInput<'deliver_sm'> {
    const rand = this.rand;
    const r = rand();
    let shown = id;
    if (r < 0.1) shown = id.toUpperCase();
    else if (r < 0.2) shown = `00${id}`;
    else if (r < 0.25 && /^[0-9]+$/.test(id) && id.length < 15) shown = Number(id).toString(16);
    else if (r < 0.3 && /^[0-9a-f]+$/i.test(id) && id.length < 13) shown = String(parseInt(id, 16));
    else if (r < 0.35) shown = hostileText(rand, 64);
    const stat = rand() < 0.8 ? pick(rand, ['DELIVRD', 'UNDELIV', 'REJECTD', 'EXPIRED', 'DELETED', 'ACCEPTD', 'UNKNOWN', 'ENROUTE', 'delivrd']) : hostileText(rand, 12).replace(/\s/g, '_');
    const digits = this.skip.has('long-err') ? 1 + int(rand, 15) : 1 + int(rand, 40);
    let err = rand() < 0.8 ? pick(rand, ['000', '001', '0', '999']) : rand() < 0.5 ? '9'.repeat(digits) : hostileText(rand, 20).replace(/\s/g, '_');
    if (this.skip.has('long-err') && /^[0-9]{16,}$/.test(err)) err = err.slice(0, 15);
    const text = rand() < 0.2 ? hostileText(rand, 40) : `id:${shown.replace(/\s/g, '')} sub:001 dlvrd:001 submit date:${hostileText(rand, 12)} done date:2501011200 stat:${stat} err:${err} text:${hostileText(rand, 20)}`;
    const tlvs: Tlv[] = [];
    const t = rand();
    if (t < 0.5) tlvs.push({ tag: RECEIPTED_ID, value: Buffer.from(rand() < 0.8 ? `${shown}\0` : shown, 'latin1') });
    if (rand() < 0.4) tlvs.push({ tag: MESSAGE_STATE, value: Buffer.from([rand() < 0.8 ? 1 + int(rand, 8) : int(rand, 256)]) });
    if (rand() < 0.2) tlvs.push({ tag: NETWORK_ERROR, value: randomBytes(rand, 3, 3) });
    const sm = Buffer.from(text, 'latin1');
    return {
      command: 'deliver_sm',
      sequence_number: 1,
      source_addr_ton: ton(rand),
      source_addr_npi: ton(rand),
      source_addr: hostileAddress(rand, 20),
      dest_addr_ton: ton(rand),
      dest_addr_npi: ton(rand),
      destination_addr: hostileAddress(rand, 20),
      esm_class: rand() < 0.9 ? 0x04 : pick(rand, [0x44, 0x24, 0x3c, 0x84]),
      data_coding: rand() < 0.9 ? 0 : int(rand, 256),
      short_message: sm.length > 254 ? sm.subarray(0, 254) : sm,
      ...(tlvs.length > 0 ? { tlvs } : {}),
    };
  }

  /** One request of the carrier's own: an MO or a receipt for nothing we know, with hostile fields. */
  push(): void {
    const session = [...this.bound][0];
    if (session === undefined || this.outstanding >= 20) return;
    const rand = this.rand;
    const r = rand();
    let pdu: PduInput<'deliver_sm'> | PduInput<'data_sm'>;
    if (r < 0.55) {
      // An MO: keyword or not, any coding, with a UDH now and then, text or payload.
      const esm = rand() < 0.8 ? pick(rand, [0, 0, 0x40]) : int(rand, 256) & ~0x3c;
      const dc = dataCoding(rand);
      const udh = (esm & 0x40) !== 0;
      let sm = Buffer.concat([Buffer.from(pick(rand, MO_KEYWORDS), 'latin1'), hostileShortMessage(rand, false)]);
      if (dc === 8 && rand() < 0.5) sm = Buffer.from(encodeText(`${pick(rand, MO_KEYWORDS)}\u00e9\u4e2d${hostileText(rand, 20)}`).short_message);
      if (udh) sm = Buffer.concat([Buffer.from([0x05, 0x00, 0x03, int(rand, 256), 2, 1]), sm]);
      const tlvs = hostileTlvs(rand, 'maybe');
      const payloadOnly = tlvs?.some((t) => t.tag === PAYLOAD) && rand() < 0.7;
      pdu = {
        command: 'deliver_sm',
        sequence_number: 1,
        service_type: hostileText(rand, 5),
        source_addr_ton: ton(rand),
        source_addr_npi: ton(rand),
        source_addr: hostileAddress(rand, 20, ['4917', '3']),
        dest_addr_ton: ton(rand),
        dest_addr_npi: ton(rand),
        destination_addr: rand() < 0.7 ? pick(rand, MO_SHORT_CODES) : hostileAddress(rand, 20),
        esm_class: esm,
        protocol_id: int(rand, 256),
        priority_flag: int(rand, 4),
        registered_delivery: int(rand, 256),
        data_coding: dc,
        short_message: payloadOnly ? Buffer.alloc(0) : sm.subarray(0, 254),
        ...(tlvs ? { tlvs } : {}),
      };
    } else if (r < 0.8) {
      // data_sm: an MO (payload, addresses up to 64 characters) or a receipt.
      const receipt = rand() < 0.3;
      pdu = {
        command: 'data_sm',
        sequence_number: 1,
        service_type: hostileText(rand, 5),
        source_addr_ton: ton(rand),
        source_addr_npi: ton(rand),
        source_addr: rand() < 0.8 ? hostileAddress(rand, 20, ['4917']) : hostileText(rand, 64),
        dest_addr_ton: ton(rand),
        dest_addr_npi: ton(rand),
        destination_addr: rand() < 0.7 ? pick(rand, MO_SHORT_CODES) : hostileText(rand, 64),
        esm_class: receipt ? 0x04 : rand() < 0.8 ? 0 : int(rand, 256),
        registered_delivery: int(rand, 256),
        data_coding: dataCoding(rand),
        ...(() => {
          const tlvs = receipt ? this.receipt(pick(rand, this.ids.length > 0 ? this.ids : ['1'])).tlvs : hostileTlvs(rand, 'always');
          return tlvs ? { tlvs } : {};
        })(),
      };
      if (rand() < 0.03 && !this.skip.has('oversize-mo')) {
        // At the size limit: the gateway passes a data_sm MO on as a deliver_sm, 7 bytes longer.
        const routed: PduInput<'data_sm'> = { ...pdu, esm_class: 0, destination_addr: '55555', source_addr: hostileAddress(rand, 20), tlvs: [{ tag: PAYLOAD, value: Buffer.alloc(0) }] };
        const fill = Math.max(0, MAX_PDU - int(rand, 8) - encode(routed).length);
        pdu = { ...routed, tlvs: [{ tag: PAYLOAD, value: randomBytes(rand, fill, fill) }] };
      }
    } else {
      // A receipt for an id the carrier gave (or never gave).
      pdu = this.receipt(this.ids.length > 0 && rand() < 0.8 ? pick(rand, this.ids) : hostileText(rand, 30));
    }
    this.send(session, pdu, 'request');
  }

  private send(session: Session, pdu: PduInput<'deliver_sm'> | PduInput<'data_sm'>, what: 'receipt' | 'request'): void {
    if (!session.isBound) return;
    // Whatever the gateway does not take for a receipt (esm_class type bits other than 0x04) is an MO to it.
    this.moKeys.add(pdu);
    if (what === 'receipt') this.stats.receiptsSent++;
    else this.stats.requestsSent++;
    this.outstanding++;
    const { sequence_number: _s, ...body } = pdu;
    void _s;
    (session.request(body as Omit<PduInput<'deliver_sm'>, 'sequence_number'>) as Promise<Pdu>).then(
      (resp) => {
        this.outstanding--;
        bump(this.stats.answers, statusName(resp.command_status));
      },
      (err: unknown) => {
        this.outstanding--;
        bump(this.stats.answers, err instanceof SmppError ? `nack ${statusName(err.status)}` : (err as Error).name);
      },
    );
  }
}

/** MOs sent by either carrier, by what the ESME must find in the deliver_sm: addresses and octets. */
class MoKeys {
  private readonly keys = new Set<string>();
  sent = 0;

  static key(source: string, destination: string, sm: Buffer, tlvs: Tlv[] | undefined): string {
    const payload = tlvs?.find((t) => t.tag === PAYLOAD)?.value;
    return `${source}\u0000${destination}\u0000${sm.toString('hex')}\u0000${payload ? payload.subarray(0, 64).toString('hex') : ''}`;
  }

  add(pdu: PduInput<'deliver_sm'> | PduInput<'data_sm'>): void {
    if (((pdu.esm_class ?? 0) & 0x3c) === 0x04) return; // receipts: the gateway answers them, never passes them on
    this.sent++;
    if (this.keys.size < 500_000) this.keys.add(MoKeys.key(pdu.source_addr ?? '', pdu.destination_addr ?? '', 'short_message' in pdu ? pdu.short_message ?? Buffer.alloc(0) : Buffer.alloc(0), pdu.tlvs));
  }

  has(pdu: PduOf<'deliver_sm'>): boolean {
    return this.keys.has(MoKeys.key(pdu.source_addr, pdu.destination_addr, pdu.short_message, pdu.tlvs));
  }
}

// ---- the gateway child process -----------------------------------------------------------------

interface LogCheck {
  lines: number;
  bytes: number;
  notJson: number;
  byLevel: Record<string, number>;
  rawLineBreaks: number;
  rawControls: number;
  warnings: Record<string, number>;
  firstWarnings: Record<string, string>;
  errors: Record<string, number>;
  samples: string[];
}

interface GatewayChild {
  proc: ChildProcess;
  pid: number;
  smppPort: number;
  httpPort: number;
  logs: LogCheck;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  alive(): boolean;
  waitLog(pred: (l: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>>;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Starts `smppgw start` on free ports; checks every stdout line as it comes (nothing is kept but counts and samples). */
async function startGatewayChild(db: string, env: NodeJS.ProcessEnv): Promise<GatewayChild> {
  const proc = spawn(process.execPath, [CLI, 'start', '--db', db, '--port', '0', '--http-port', '0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave it behind: a gateway whose stdout reader is gone does not stop on SIGTERM.
  const reap = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  process.once('exit', reap);
  proc.once('exit', () => process.off('exit', reap));
  const logs: LogCheck = { lines: 0, bytes: 0, notJson: 0, byLevel: {}, rawLineBreaks: 0, rawControls: 0, warnings: {}, firstWarnings: {}, errors: {}, samples: [] };
  const sample = (what: string, line: string): void => {
    if (logs.samples.length < 12) logs.samples.push(`${what}: ${JSON.stringify(line.length > 600 ? `${line.slice(0, 600)}…` : line)}`);
  };
  let stderr = '';
  let pending = '';
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  const onLine = (line: string): void => {
    logs.lines++;
    logs.bytes += line.length + 1;
    // Raw characters that break a line for some readers, or that a terminal takes as escapes.
    if (/[\u0085\u2028\u2029]/.test(line)) {
      logs.rawLineBreaks++;
      sample('raw line break', line);
    }
    if (/[\u007f-\u009f]/.test(line)) {
      if (logs.rawControls++ === 0) sample('raw C1/DEL control', line);
    }
    let obj: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      obj = parsed as Record<string, unknown>;
    } catch {
      logs.notJson++;
      sample('not JSON', line);
      return;
    }
    const level = LEVELS[obj.level as number] ?? String(obj.level);
    bump(logs.byLevel, level);
    const msg = typeof obj.msg === 'string' ? obj.msg : '(no msg)';
    if (level === 'warn') {
      bump(logs.warnings, msg);
      if (logs.warnings[msg] === 1) logs.firstWarnings[msg] = line.length > 400 ? `${line.slice(0, 400)}…` : line;
    }
    if (level === 'error' || level === 'fatal') {
      bump(logs.errors, msg);
      if (logs.errors[msg] === 1) sample(level, line);
    }
    for (const w of waiters.splice(0)) {
      if (w.pred(obj)) w.resolve(obj);
      else waiters.push(w);
    }
  };
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let i: number;
    while ((i = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, i));
      pending = pending.slice(i + 1);
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-16_384)));
  let exitInfo: { code: number | null; signal: string | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('close', (code, signal) => {
      if (pending.length > 0) onLine(pending);
      pending = '';
      exitInfo = { code, signal };
      resolve(exitInfo);
    }),
  );
  const waitLog = (pred: (l: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway: no such log line within ${ms} ms; stderr: ${stderr}`)), ms);
      waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited (${JSON.stringify(e)}) before the log line; stderr: ${stderr}`));
      });
    });
  const ready = await waitLog((l) => l.msg === 'smppgw ready', 20_000);
  return {
    proc,
    pid: proc.pid!,
    smppPort: ready.smpp as number,
    httpPort: ready.http as number,
    logs,
    stderr: () => stderr,
    exited,
    alive: () => exitInfo === undefined && proc.exitCode === null && proc.signalCode === null,
    waitLog,
  };
}

function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function httpGet(port: number, path: string, ms = 3_000): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(ms) });
  return { status: res.status, body: await res.text() };
}

// ---- the run -----------------------------------------------------------------------------------

function connectionSeed(seed: number, n: number): number {
  return (seededRandom((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0)() * 0x100000000) >>> 0;
}

/** Waits for `event` on the socket, its close, or `ms`, whichever comes first. */
function waitSocket(socket: net.Socket, event: string, ms: number): Promise<'event' | 'closed' | 'timeout'> {
  if (socket.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const done = (r: 'event' | 'closed' | 'timeout'): void => {
      clearTimeout(timer);
      socket.off(event, onEvent);
      socket.off('close', onClose);
      resolve(r);
    };
    const onEvent = (): void => done('event');
    const onClose = (): void => done('closed');
    const timer = setTimeout(() => done('timeout'), ms);
    socket.once(event, onEvent);
    socket.once('close', onClose);
  });
}

interface Pend {
  command: string;
  sentAt: number;
  unit: Buffer;
  track: Track | undefined;
}

export async function runGatewayFuzz(options: GatewayFuzzOptions): Promise<GatewayFuzzSummary> {
  const t0 = performance.now();
  const sessions = Math.max(1, options.sessions ?? 2);
  const window = Math.max(1, options.window ?? 50);
  const moEvery = options.moEvery ?? 25;
  const carrierEvery = options.carrierEvery ?? 20;
  const settleMs = options.settleMs ?? 20_000;
  const sampleMs = options.sampleMs ?? 1_000;
  const stallMs = options.stallMs ?? 15_000;
  const warmupUnits = options.warmupUnits ?? Math.min(Math.floor(options.count / 10), 20_000);
  const progressEvery = options.progressEvery ?? 100_000;
  const timeLimit = options.timeLimitMs ?? Infinity;
  const masterRand = seededRandom(options.seed);
  const skip = new Set<Skippable>(options.skip ?? []);

  const s: GatewayFuzzSummary = {
    seed: options.seed,
    count: options.count,
    sent: 0,
    bytes: 0,
    sentByKind: {},
    fuzzMs: 0,
    unitsPerSecond: 0,
    totalMs: 0,
    stoppedEarly: null,
    connections: 0,
    connectionEnds: {},
    responsesLost: 0,
    responses: 0,
    responsesByStatus: {},
    responsesByCommand: {},
    acknowledged: 0,
    deliverSm: { receipts: 0, receiptsMatched: 0, receiptsUnknownId: 0, mos: 0, mosMatched: 0, answered: {} },
    simulator: { mosSent: 0, moStatuses: {}, submits: 0, receiptsCreated: 0, receiptsAcked: 0 },
    carrier: { submits: 0, submitAnswers: {}, receiptsSent: 0, requestsSent: 0, answers: {}, cancels: 0, replaces: 0, binds: 0 },
    hostileBinds: { attempts: 0, statuses: {} },
    rss: { beforeMB: null, afterMB: null, maxMB: 0, samples: 0 },
    health: { checks: 0, failures: 0 },
    gateway: { pid: 0, aliveAtEnd: false, exitCode: null, exitSignal: null, stderr: '' },
    status: null,
    finalCheck: null,
    db: null,
    logs: { lines: 0, bytes: 0, notJson: 0, byLevel: {}, rawLineBreaks: 0, rawControls: 0, warnings: {}, firstWarnings: {}, errors: {}, samples: [] },
    anomalyCount: 0,
    anomaliesByKind: {},
    anomalies: [],
    dir: null,
    failures: [],
  };
  const anomaly = (kind: string, connection: number, detail: string, units: Buffer[] = []): void => {
    s.anomalyCount++;
    bump(s.anomaliesByKind, kind);
    if (s.anomalies.length < MAX_ANOMALIES) {
      s.anomalies.push({ kind, connection, detail, units: units.map((u) => (u.length > 4096 ? `${u.subarray(0, 4096).toString('hex')}…(${u.length} bytes)` : u.toString('hex'))) });
    }
  };

  const tmp = tempDir('smppgw-fuzzgw-');
  const db = join(tmp.dir, 'gw.db');
  const moKeys = new MoKeys();
  const sim = new SmscSimulator({ dlrDelayMs: 0, window: 50, maxTracked: 10_000, retryDelayMs: 200, random: seededRandom(options.seed ^ 0x51a1) });
  const carrier = new HostileCarrier(seededRandom(options.seed ^ 0xca77), moKeys, skip);
  let gw: GatewayChild | undefined;
  let sampler: NodeJS.Timeout | undefined;
  const acknowledged = new Set<number>();
  const recent = new RecentIds();
  const replaced = new Set<number>();
  /** Receipts whose id was not (yet) acknowledged when they came. */
  const unmatched = new Set<number>();
  const samples: Array<{ id: number; expect: PduOf<'submit_sm'> }> = [];
  let sampleSeen = 0;
  const SAMPLE_MAX = 3_000;

  try {
    // ---- set-up ----
    const simPort = (await sim.start()).port;
    const carrierPort = await carrier.start();
    const setup: string[][] = [
      ['account', 'add', ACCOUNT.systemId, '--password', ACCOUNT.password, '--tps', '0', '--window', String(Math.max(200, window * 2)), '--max-binds', String(sessions * 3 + 4)],
      ['connector', 'add', 'sim', '--host', '127.0.0.1', '--port', String(simPort), '--system-id', 'gw', '--password', 'pw', '--bind', 'trx', '--window', '50'],
      ['connector', 'add', 'hostile', '--host', '127.0.0.1', '--port', String(carrierPort), '--system-id', 'gw', '--password', 'pw', '--bind', 'trx', '--window', '20', '--dlr-id', 'hex'],
      ['route', 'add', 'mt', '--connector', 'sim'],
      ['route', 'add', 'mt', '--connector', 'hostile', '--prefix', '99', '--order', '50'],
      ['route', 'add', 'mt', '--kind', 'failover', '--connector', 'hostile,sim', '--prefix', '98', '--order', '50'],
      ['route', 'add', 'mt', '--kind', 'weighted', '--connector', 'sim:3,hostile:1', '--prefix', '97', '--order', '50'],
      ['route', 'add', 'mt', '--connector', 'sim', '--source', '/^[A-Za-z][A-Za-z0-9 ]*$/', '--order', '60'],
      ['route', 'add', 'mo', '--account', ACCOUNT.systemId, '--short-code', '12345', '--keyword', 'VOTE'],
      ['route', 'add', 'mo', '--account', ACCOUNT.systemId, '--short-code', '55555'],
      ['route', 'add', 'mo', '--account', ACCOUNT.systemId, '--source-prefix', '4917', '--order', '150'],
      ['route', 'add', 'mo', '--account', ACCOUNT.systemId, '--connector', 'hostile', '--source-prefix', '3', '--order', '200'],
    ];
    for (const args of setup) cli(db, ...args);
    gw = await startGatewayChild(db, {
      SMPPGW_SMPP__HOST: '127.0.0.1',
      SMPPGW_HTTP__HOST: '127.0.0.1',
      SMPPGW_STORE__SYNCHRONOUS: options.synchronous ?? 'normal',
      // Hostile binds come from 127.0.0.1 like everything else: no lockout, no per-address cap.
      SMPPGW_SECURITY__BINDFAILURES: '0',
      SMPPGW_SECURITY__MAXCONNECTIONSPERIP: '1000',
      // The hostile carrier's temporary errors are retried quickly, so the run settles.
      SMPPGW_SMSC__RETRYBASEMS: '50',
      SMPPGW_SMSC__RETRYMAXMS: '500',
      SMPPGW_LOG_LEVEL: options.logLevel ?? 'info',
    });
    const g = gw;
    s.gateway.pid = g.pid;
    // Both carriers bound before the first message.
    for (let i = 0; i < 200; i++) {
      if (sim.summary().activeBinds > 0 && carrier.up) break;
      await sleep(50);
    }
    if (sim.summary().activeBinds === 0 || !carrier.up) throw new Error('the gateway did not bind to both carriers within 10 s');

    // ---- sampling: RSS and /healthz ----
    let rssMax = 0;
    let healthFailuresInRow = 0;
    const sampleRss = (): number | undefined => {
      const rss = rssBytes(g.pid);
      if (rss !== undefined) {
        s.rss.samples++;
        rssMax = Math.max(rssMax, rss);
      }
      return rss;
    };
    let sampling = false;
    sampler = setInterval(() => {
      if (sampling || !g.alive()) return;
      sampling = true;
      sampleRss();
      s.health.checks++;
      httpGet(g.httpPort, '/healthz', 5_000)
        .then((r) => {
          if (r.status !== 200) throw new Error(`status ${r.status}`);
          healthFailuresInRow = 0;
        })
        .catch((err: Error) => {
          s.health.failures++;
          if (++healthFailuresInRow === 5) anomaly('health', -1, `/healthz failed 5 times in a row: ${err.message}`);
        })
        .finally(() => (sampling = false));
    }, sampleMs);

    // ---- fuzzing ----
    const started = performance.now();
    let reserved = 0;
    let nextConnection = 0;
    let nextProgress = progressEvery;
    let warmedUp = false;
    let moInFlight = 0;
    let moCredit = 0;
    let carrierCredit = 0;
    let connectFailuresInRow = 0;
    const stop = (reason: string): void => {
      s.stoppedEarly ??= reason;
    };
    const finished = (): boolean => {
      if (s.stoppedEarly !== null) return true;
      if (!g.alive()) stop('the gateway exited');
      else if (performance.now() - started > timeLimit) stop(`time limit of ${timeLimit} ms reached`);
      return s.stoppedEarly !== null || reserved >= options.count;
    };
    const moRand = seededRandom(options.seed ^ 0x3001);

    /** Side traffic paced by the units sent: MOs from the simulator, requests from the hostile carrier. */
    const sideTraffic = (units: number): void => {
      if (carrierEvery > 0) {
        carrierCredit += units / carrierEvery;
        while (carrierCredit >= 1) {
          carrierCredit--;
          carrier.push();
        }
      }
      if (moEvery > 0) {
        moCredit += units / moEvery;
        while (moCredit >= 1 && moInFlight < 50) {
          moCredit--;
          const rand = moRand;
          const addr = (a: string): string => (a.length === 0 || a.includes('..') ? '4917000000' : a);
          const from = addr(hostileAddress(rand, 20, ['4917']));
          const to = addr(rand() < 0.8 ? pick(rand, MO_SHORT_CODES) : hostileAddress(rand, 20));
          let text = `${pick(rand, MO_KEYWORDS)}${hostileText(rand, 60)}`;
          if (rand() < 0.3) text += pick(rand, ['\u00e9\u00e8', '\u4e2d\u6587', '\ud83d\ude00', '\ud800', '\u2028\u0085', '\u0000\u001b[31m']);
          const tlvs = rand() < 0.3 ? hostileTlvs(rand, 'maybe') : undefined;
          const sm = encodeText(text).short_message;
          if (sm.length > 254) continue;
          moKeys.add({ command: 'deliver_sm', sequence_number: 1, source_addr: from, destination_addr: to, esm_class: 0, short_message: sm, ...(tlvs ? { tlvs } : {}) });
          moInFlight++;
          s.simulator.mosSent++;
          sim.sendMo({ from, to, text, ...(tlvs ? { tlvs } : {}) }).then(
            (status) => bump(s.simulator.moStatuses, statusName(status)),
            (err: Error) => bump(s.simulator.moStatuses, `rejected: ${err.message.slice(0, 60)}`),
          ).finally(() => moInFlight--);
        }
      }
      // The simulator remembers every accepted submit's key for its duplicate count: not needed here.
      if (sim.keys.size > 50_000) sim.keys.clear();
    };

    /** Answers and checks what the gateway sends an ESME: deliver_sm (receipts, MOs), enquire_link, unbind. */
    /** Checks a deliver_sm from the gateway: a receipt carries an id it gave; an MO is one a carrier sent, unchanged. */
    const checkDeliver = (pdu: PduOf<'deliver_sm'>, raw: Buffer, conn: number): void => {
      if ((pdu.esm_class & 0x3c) === 0x04) {
        s.deliverSm.receipts++;
        const tlv = pdu.tlvs?.find((t) => t.tag === RECEIPTED_ID)?.value;
        const id = tlv ? tlv.toString('latin1', 0, tlv.length > 0 && tlv[tlv.length - 1] === 0 ? tlv.length - 1 : tlv.length) : '';
        const text = pdu.short_message.toString('latin1');
        if (!/^[0-9a-f]+$/.test(id) || !text.startsWith(`id:${id} `)) anomaly('bad-receipt', conn, `receipt id ${JSON.stringify(id)}, text ${JSON.stringify(text.slice(0, 80))}`, [raw]);
        else if (acknowledged.has(parseInt(id, 16))) s.deliverSm.receiptsMatched++;
        // The response may still be on its way on another connection: decided at the end.
        else if (unmatched.size < 1_000_000) unmatched.add(parseInt(id, 16));
      } else {
        s.deliverSm.mos++;
        if (moKeys.has(pdu)) s.deliverSm.mosMatched++;
        else anomaly('mo-changed', conn, `an MO no carrier sent (addresses ${JSON.stringify(pdu.source_addr)} → ${JSON.stringify(pdu.destination_addr)})`, [raw]);
      }
    };

    /** Answers what the gateway sends an ESME: deliver_sm (checked; mostly OK, sometimes an error or nothing), enquire_link, unbind. */
    const answerGateway = (socket: net.Socket, pdu: Pdu, rand: () => number, conn: number, raw: Buffer): void => {
      if (pdu.command === 'enquire_link' || pdu.command === 'unbind') {
        socket.write(encode({ command: `${pdu.command}_resp`, sequence_number: pdu.sequence_number }));
        return;
      }
      if (pdu.command !== 'deliver_sm') {
        anomaly('unexpected-request', conn, `the gateway sent ${pdu.command} to an ESME`, [raw]);
        return;
      }
      checkDeliver(pdu, raw, conn);
      const r = rand();
      if (r < 0.002) {
        bump(s.deliverSm.answered, 'none');
        return;
      }
      if (r < 0.007) {
        bump(s.deliverSm.answered, 'generic_nack');
        socket.write(encode({ command: 'generic_nack', sequence_number: pdu.sequence_number, command_status: Status.ESME_RSYSERR! }));
        return;
      }
      const status = r < 0.03 ? pick(rand, [Status.ESME_RSYSERR!, Status.ESME_RMSGQFUL!, Status.ESME_RTHROTTLED!, Status.ESME_RX_T_APPN!, 0xdeadbeef]) : 0;
      bump(s.deliverSm.answered, statusName(status));
      socket.write(encode({ command: 'deliver_sm_resp', sequence_number: pdu.sequence_number, command_status: status, message_id: '' }));
    };

    /** A bind with hostile credentials on a connection of its own: it must be refused, and nothing else happen. */
    const hostileBind = async (rand: () => number, conn: number): Promise<void> => {
      s.hostileBinds.attempts++;
      const socket = net.connect({ host: '127.0.0.1', port: g.smppPort });
      socket.on('error', () => {});
      try {
        if ((await waitSocket(socket, 'connect', 5_000)) !== 'event') return;
        const framer = new Framer(MAX_PDU);
        const got = new Promise<Pdu | undefined>((resolve) => {
          socket.on('data', (chunk: Buffer) => {
            try {
              framer.push(chunk, (buf, start, length) => resolve(decode(Buffer.from(buf.subarray(start, start + length)))));
            } catch {
              resolve(undefined);
            }
          });
          socket.once('close', () => resolve(undefined));
        });
        const systemId = rand() < 0.3 ? ACCOUNT.systemId : hostileText(rand, 15);
        const password = hostileText(rand, 8);
        const command = pick(rand, ['bind_transceiver', 'bind_transmitter', 'bind_receiver'] as const);
        socket.write(encode({ command, sequence_number: 7, system_id: systemId, password, system_type: hostileText(rand, 12), interface_version: int(rand, 256), addr_ton: ton(rand), addr_npi: ton(rand), address_range: hostileText(rand, 40) }));
        let timer: NodeJS.Timeout | undefined;
        const resp = await Promise.race([got, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 5_000)))]);
        clearTimeout(timer);
        if (resp === 'timeout' || resp === undefined) anomaly('hostile-bind', conn, `no answer to a bind as ${JSON.stringify(systemId)}`);
        else {
          bump(s.hostileBinds.statuses, statusName(resp.command_status));
          if (resp.command_status === 0 && password !== ACCOUNT.password) anomaly('hostile-bind', conn, `bind as ${JSON.stringify(systemId)} with password ${JSON.stringify(password)} accepted`);
        }
      } finally {
        socket.destroy();
      }
    };

    async function connection(n: number): Promise<void> {
      const rand = seededRandom(connectionSeed(options.seed, n));
      // Answers to the gateway's requests depend on its timing: their own stream, so the units do not.
      const answerRand = seededRandom(connectionSeed(options.seed, n) ^ 0xa5a5a5a5);
      const recentUnits: Buffer[] = [];
      const socket = net.connect({ host: '127.0.0.1', port: g.smppPort });
      socket.setNoDelay(true);
      let socketError: string | undefined;
      socket.on('error', (err: NodeJS.ErrnoException) => (socketError ??= err.code ?? err.message));
      if ((await waitSocket(socket, 'connect', 10_000)) !== 'event') {
        socket.destroy();
        if (++connectFailuresInRow >= 10) stop(`${connectFailuresInRow} connects in a row failed`);
        return;
      }
      connectFailuresInRow = 0;
      s.connections++;
      const end = (why: string): void => bump(s.connectionEnds, why);

      // Reading: the bind response, the responses to our requests, and the gateway's own requests.
      const pending = new Map<number, Pend[]>();
      let outstanding = 0;
      let lastResponseAt = performance.now();
      let wake: (() => void) | undefined;
      let bindWaiter: ((pdu: Pdu | undefined) => void) | undefined;
      let closed = false;
      let nackAfterFatal = false;
      let fatalSent = false;
      const framer = new Framer(16 * MB); // larger than the protocol allows: an oversize PDU is seen, not a framing error
      const onPdu = (buf: Buffer, start: number, length: number): void => {
        const raw = Buffer.from(buf.subarray(start, start + length));
        if (length > MAX_PDU) anomaly('oversize-pdu', n, `the gateway sent a PDU of ${length} bytes (command 0x${raw.readUInt32BE(4).toString(16)}), above the 64 KiB limit`, [raw.subarray(0, 64)]);
        let pdu: Pdu;
        try {
          pdu = decode(raw, 0, 16 * MB);
        } catch (err) {
          anomaly('undecodable-pdu', n, `${(err as Error).message}`, [raw]);
          return;
        }
        if (bindWaiter !== undefined) {
          const w = bindWaiter;
          bindWaiter = undefined;
          w(pdu);
          return;
        }
        if (!COMMANDS.get(pdu.command)!.isResponse) {
          answerGateway(socket, pdu, answerRand, n, raw);
          return;
        }
        s.responses++;
        bump(s.responsesByStatus, statusName(pdu.command_status));
        bump(s.responsesByCommand, pdu.command);
        if (fatalSent && pdu.command === 'generic_nack' && pdu.command_status === ESME_RINVCMDLEN && pdu.sequence_number === 0) nackAfterFatal = true;
        outstanding--;
        lastResponseAt = performance.now();
        const list = pending.get(pdu.sequence_number);
        const p = list?.shift();
        if (list !== undefined && list.length === 0) pending.delete(pdu.sequence_number);
        if (p !== undefined) onResponse(pdu, p);
        const w = wake;
        wake = undefined;
        w?.();
      };
      const onResponse = (pdu: Pdu, p: Pend): void => {
        if (pdu.command_status !== 0 || p.track === undefined) return;
        const t = p.track;
        if (t.kind === 'submit' && (pdu.command === 'submit_sm_resp' || pdu.command === 'data_sm_resp')) {
          const id = parseInt(pdu.message_id, 16);
          if (!/^[0-9a-f]{1,13}$/.test(pdu.message_id) || !Number.isSafeInteger(id)) {
            anomaly('bad-message-id', n, `submit answered OK with message_id ${JSON.stringify(pdu.message_id)}`, [p.unit]);
            return;
          }
          acknowledged.add(id);
          recent.add(pdu.message_id);
          if (t.expect !== undefined) {
            sampleSeen++;
            if (samples.length < SAMPLE_MAX) samples.push({ id, expect: t.expect });
            else {
              const j = Math.floor(masterRand() * sampleSeen);
              if (j < SAMPLE_MAX) samples[j] = { id, expect: t.expect };
            }
          }
        } else if (t.kind === 'multi' && pdu.command === 'submit_multi_resp') {
          const first = parseInt(pdu.message_id, 16);
          // One ledger row per accepted destination, inserted in one go: consecutive ids.
          const ok = (t.dests ?? 0) - pdu.unsuccess_sme.length;
          for (let k = 0; k < ok; k++) acknowledged.add(first + k);
          recent.add(pdu.message_id);
        }
      };
      socket.on('data', (chunk: Buffer) => {
        try {
          framer.push(chunk, onPdu);
        } catch (err) {
          anomaly('gateway-broke-framing', n, (err as Error).message);
          socket.destroy();
        }
      });
      const closedPromise = new Promise<void>((resolve) =>
        socket.once('close', () => {
          closed = true;
          bindWaiter?.(undefined);
          const w = wake;
          wake = undefined;
          w?.();
          resolve();
        }),
      );
      const waitResponse = (ms: number): Promise<boolean> =>
        new Promise((resolve) => {
          const timer = setTimeout(() => {
            wake = undefined;
            resolve(false);
          }, ms);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
      const oldestPending = (k: number): Buffer[] =>
        [...pending.values()].flat().sort((a, b) => a.sentAt - b.sentAt).slice(0, k).map((p) => p.unit);

      try {
        // The bind: mostly a transceiver; transmitters get no deliver_sm, receivers may not submit.
        const command = rand() < 0.85 ? 'bind_transceiver' : rand() < 0.5 ? 'bind_transmitter' : 'bind_receiver';
        const got = new Promise<Pdu | undefined>((resolve) => (bindWaiter = resolve));
        socket.write(encode({ command, sequence_number: 1, system_id: ACCOUNT.systemId, password: ACCOUNT.password, interface_version: 0x34 }));
        let timer: NodeJS.Timeout | undefined;
        const resp = await Promise.race([got, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 10_000)))]);
        clearTimeout(timer);
        if (resp === undefined || resp === 'timeout' || resp.command_status !== 0) {
          anomaly('bind-failed', n, resp === 'timeout' ? 'no bind response' : resp === undefined ? 'closed before the bind response' : `${resp.command} ${statusName(resp.command_status)}`);
          end('bind failed');
          return;
        }

        const budget = rand() < 0.1 ? 1 + int(rand, 50) : Math.floor(Math.exp(rand() * Math.log(20_000)));
        let sentHere = 0;
        let seq = 2;
        let ending: string | undefined;
        let sinceYield = 0;
        while (!closed && ending === undefined && sentHere < budget && !finished()) {
          if (outstanding >= window) {
            const ok = await waitResponse(stallMs);
            if (!ok && !closed && outstanding >= window) {
              anomaly('unanswered', n, `${outstanding} requests outstanding, no response for ${stallMs} ms`, oldestPending(3));
              ending = 'stall';
            }
            continue;
          }
          if (rand() < 1 / 3000) await hostileBind(rand, n);
          reserved++;
          seq = seq >= 0x7ffffff0 ? 2 : seq + 1;
          const u = nextUnit(rand, seq, recent, 0.1, skip);
          bump(s.sentByKind, u.kind);
          if (recentUnits.length === RECENT_UNITS) recentUnits.shift();
          recentUnits.push(u.bytes);
          const effect = frameEffect(u.bytes);
          if (effect === 'fatal') fatalSent = true;
          if (effect !== 'in-step') ending = effect === 'fatal' ? 'framing (bad command_length)' : 'framing (out of step)';
          else if (isUnbind(u.bytes)) ending = 'unbind';
          else if (expectsResponse(u.bytes)) {
            const useq = u.bytes.readUInt32BE(12);
            const track = u.track ?? (u.kind.startsWith('mutated') || u.kind === 'malformed' || u.kind === 'other' ? trackOf(u.bytes) : undefined);
            const p: Pend = { command: COMMANDS_BY_ID.get(u.bytes.readUInt32BE(4))?.name ?? 'unknown', sentAt: performance.now(), unit: u.bytes, track };
            if (track?.kind === 'replace') {
              // Its answer may be lost with the connection: a message ever aimed at is not sampled.
              const id = parseInt((track.target ?? '').trim(), 16);
              if (Number.isSafeInteger(id)) replaced.add(id);
            }
            const list = pending.get(useq);
            if (list) list.push(p);
            else pending.set(useq, [p]);
            outstanding++;
          }
          const ok = socket.write(u.bytes);
          s.sent++;
          s.bytes += u.bytes.length;
          sentHere++;
          sideTraffic(1);
          if (!warmedUp && s.sent >= warmupUnits) {
            warmedUp = true;
            const rss = sampleRss();
            if (rss !== undefined) s.rss.beforeMB = mb(rss);
          }
          if (s.sent >= nextProgress) {
            nextProgress += progressEvery;
            const el = performance.now() - started;
            options.onProgress?.(`fuzz-gateway: ${s.sent} units, ${s.connections} connections, ${s.responses} responses, ${acknowledged.size} acknowledged, ${s.deliverSm.receipts} receipts, ${s.deliverSm.mos} MOs, ${s.anomalyCount} anomalies, ${Math.round(el)} ms, rss max ${mb(rssMax)} MB`);
          }
          if (!ok) {
            const r = await waitSocket(socket, 'drain', stallMs);
            if (r === 'timeout') {
              anomaly('stall', n, `no drain within ${stallMs} ms`, recentUnits);
              ending = 'stall';
            }
          } else if (++sinceYield >= 16) {
            sinceYield = 0;
            await yieldTurn();
          }
        }

        if (ending === 'framing (bad command_length)') {
          const r = await Promise.race([closedPromise.then(() => 'closed' as const), sleep(10_000).then(() => 'timeout' as const)]);
          if (r === 'timeout') anomaly('unexpected-close', n, 'still open 10 s after a command_length outside 16..65536', recentUnits.slice(-2));
          else if (!nackAfterFatal) anomaly('no-nack-before-close', n, `closed after a bad command_length without generic_nack ESME_RINVCMDLEN #0 (socket error ${socketError ?? 'none'})`, recentUnits.slice(-2));
          end(ending);
        } else if (ending === 'framing (out of step)') {
          // The gateway now waits for the rest of a PDU that never comes, or reads garbage as a
          // header: we end our side; it must close too.
          await sleep(50);
          socket.end();
          const r = await Promise.race([closedPromise.then(() => 'closed' as const), sleep(10_000).then(() => 'timeout' as const)]);
          if (r === 'timeout') anomaly('no-close', n, 'the gateway kept the connection 10 s after our FIN', recentUnits.slice(-2));
          end(ending);
        } else if (ending === 'unbind') {
          const r = await Promise.race([closedPromise.then(() => 'closed' as const), sleep(10_000).then(() => 'timeout' as const)]);
          if (r === 'timeout') anomaly('no-close', n, 'the gateway kept the connection 10 s after our unbind', recentUnits.slice(-1));
          end(ending);
        } else if (ending === 'stall') {
          end(ending);
        } else if (closed) {
          anomaly('unexpected-close', n, `the gateway closed a connection in step (socket error ${socketError ?? 'none'}, ${outstanding} outstanding)`, recentUnits);
          end('closed by the gateway');
        } else {
          // Budget spent (or the run is over): every request must have been answered, then unbind.
          const until = performance.now() + stallMs;
          while (outstanding > 0 && !closed && performance.now() < until) await waitResponse(until - performance.now());
          if (outstanding > 0 && !closed) anomaly('unanswered', n, `${outstanding} requests unanswered ${stallMs} ms after the last unit`, oldestPending(3));
          if (!closed) {
            if (rand() < 0.7) socket.write(encode({ command: 'unbind', sequence_number: 1 }));
            else socket.end();
            const r = await Promise.race([closedPromise.then(() => 'closed' as const), sleep(10_000).then(() => 'timeout' as const)]);
            if (r === 'timeout') anomaly('no-close', n, 'the gateway kept the connection 10 s after our unbind or FIN', []);
          }
          end('done');
        }
      } finally {
        if (outstanding > 0) s.responsesLost += outstanding;
        if (!closed) socket.destroy();
        await closedPromise;
      }
    }

    await Promise.all(
      Array.from({ length: sessions }, async () => {
        while (!finished()) await connection(nextConnection++);
      }),
    );
    s.fuzzMs = Math.round(performance.now() - started);
    s.unitsPerSecond = s.fuzzMs > 0 ? Math.round((s.sent * 1000) / s.fuzzMs) : 0;

    // ---- settle, then a well-behaved ESME must still be served end to end ----
    if (g.alive()) {
      const onBad = (detail: string, raw: Buffer): void => anomaly('undecodable-pdu', -1, detail, [raw]);
      s.finalCheck = await finalCheck(g.smppPort, (pdu, raw) => checkDeliver(pdu, raw, -1), onBad, async () => {
        // Settled: nothing queued or in flight towards a carrier, outboxes empty (or the time is up).
        const until = performance.now() + settleMs;
        for (;;) {
          const st = await httpGet(g.httpPort, '/status').then((r) => JSON.parse(r.body) as Record<string, unknown>, () => null);
          s.status = st;
          const conns = Object.values((st?.connectors ?? {}) as Record<string, { queued: number; inFlight: number }>);
          const idle = st !== null && conns.every((c) => c.queued === 0 && c.inFlight === 0) && Object.keys((st.outbox ?? {}) as object).length === 0;
          if (idle || performance.now() > until) return;
          await sleep(250);
        }
      });
      const rss = sampleRss();
      if (rss !== undefined) s.rss.afterMB = mb(rss);
    }
    s.rss.maxMB = mb(rssMax);
    clearInterval(sampler);
    sampler = undefined;

    // ---- stop: SIGTERM must end it with 0 ----
    s.gateway.aliveAtEnd = g.alive();
    if (g.alive()) {
      g.proc.kill('SIGTERM');
      const killer = setTimeout(() => g.proc.kill('SIGKILL'), 30_000);
      const e = await g.exited;
      clearTimeout(killer);
      s.gateway.exitCode = e.code;
      s.gateway.exitSignal = e.signal;
    } else {
      const e = await g.exited;
      s.gateway.exitCode = e.code;
      s.gateway.exitSignal = e.signal;
    }
    s.gateway.stderr = g.stderr();
    s.logs = g.logs;

    // ---- the file ----
    s.db = checkDb(db, acknowledged, samples, replaced);
    if (s.finalCheck !== null && s.finalCheck.missing.length > 0) {
      const d = new Database(db, { readonly: true });
      try {
        const q = d.prepare('SELECT id, state, connector, smsc_id, attempts, error FROM messages WHERE id = ?');
        s.finalCheck.missingStates = s.finalCheck.missing.map((id) => JSON.stringify(q.get(parseInt(id, 16)) ?? null));
      } finally {
        d.close();
      }
    }
  } finally {
    if (sampler) clearInterval(sampler);
    if (gw?.alive()) {
      gw.proc.kill('SIGKILL');
      await gw.exited;
    }
    await carrier.stop().catch(() => undefined);
    await sim.stop().catch(() => undefined);
    const sum = sim.summary();
    s.simulator.submits = sum.submits;
    s.simulator.receiptsCreated = sum.receiptsCreated;
    s.simulator.receiptsAcked = sum.receiptsAcked;
    s.carrier = carrier.stats;
    s.acknowledged = acknowledged.size;
    for (const id of unmatched) {
      if (acknowledged.has(id)) s.deliverSm.receiptsMatched++;
      else s.deliverSm.receiptsUnknownId++;
    }
    if (options.keepDir) s.dir = tmp.dir;
    else tmp.cleanup();
    s.totalMs = Math.round(performance.now() - t0);
  }
  s.failures = verdict(s, options);
  return s;
}

/**
 * After the fuzzing: a fresh transceiver binds, waits for the queues to settle (answering every
 * deliver_sm OK, so that outboxes drain), then submits ten ordinary messages asking for receipts:
 * each must be accepted and its receipt come back.
 */
async function finalCheck(port: number, seen: (pdu: PduOf<'deliver_sm'>, raw: Buffer) => void, bad: (detail: string, raw: Buffer) => void, settle: () => Promise<void>): Promise<NonNullable<GatewayFuzzSummary['finalCheck']>> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  const result: NonNullable<GatewayFuzzSummary['finalCheck']> = { submitted: 0, accepted: 0, receipts: 0, missing: [] };
  if ((await waitSocket(socket, 'connect', 5_000)) !== 'event') return result;
  const framer = new Framer(16 * MB);
  const waiting = new Map<number, (pdu: Pdu) => void>();
  const ids = new Set<string>();
  const receiptIds = new Set<string>();
  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk, (buf, start, length) => {
      const raw = Buffer.from(buf.subarray(start, start + length));
      let pdu: Pdu;
      try {
        pdu = decode(raw, 0, 16 * MB);
      } catch (err) {
        bad(`after the run: ${(err as Error).message}`, raw);
        return;
      }
      if (length > MAX_PDU) bad(`after the run: the gateway sent a PDU of ${length} bytes, above the 64 KiB limit`, raw.subarray(0, 64));
      if (pdu.command === 'deliver_sm') {
        seen(pdu, raw);
        const id = pdu.tlvs?.find((t) => t.tag === RECEIPTED_ID)?.value.toString('latin1').replace(/\0$/, '');
        // A receipt may be read in the same chunk as its submit_sm_resp, before the id is known here.
        if (id !== undefined) receiptIds.add(id);
        socket.write(encode({ command: 'deliver_sm_resp', sequence_number: pdu.sequence_number, message_id: '' }));
      } else if (pdu.command === 'enquire_link' || pdu.command === 'unbind') {
        socket.write(encode({ command: `${pdu.command}_resp`, sequence_number: pdu.sequence_number }));
      } else {
        waiting.get(pdu.sequence_number)?.(pdu);
        waiting.delete(pdu.sequence_number);
      }
    });
  });
  const request = (pdu: PduInput): Promise<Pdu | undefined> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 10_000);
      waiting.set(pdu.sequence_number, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
      socket.write(encode(pdu));
    });
  try {
    const bind = await request({ command: 'bind_transceiver', sequence_number: 1, system_id: ACCOUNT.systemId, password: ACCOUNT.password, interface_version: 0x34 });
    if (bind?.command_status !== 0) return result;
    await settle();
    for (let i = 0; i < 10; i++) {
      result.submitted++;
      const r = await request({ command: 'submit_sm', sequence_number: 100 + i, source_addr: '12345', destination_addr: `4915100000${i}`, registered_delivery: 1, short_message: Buffer.from(`after the fuzz ${i}`) });
      if (r?.command === 'submit_sm_resp' && r.command_status === 0) {
        result.accepted++;
        ids.add(r.message_id);
      }
    }
    const missing = (): string[] => [...ids].filter((id) => !receiptIds.has(id));
    for (let i = 0; i < 300 && missing().length > 0; i++) await sleep(50);
    result.missing = missing();
    result.receipts = ids.size - result.missing.length;
    await request({ command: 'unbind', sequence_number: 999 });
  } finally {
    socket.destroy();
  }
  return result;
}

/** The SQLite file after the gateway stopped, opened read-only. */
function checkDb(path: string, acknowledged: Set<number>, samples: Array<{ id: number; expect: PduOf<'submit_sm'> }>, replaced: Set<number>): NonNullable<GatewayFuzzSummary['db']> {
  const d = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = (d.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
    const foreignKeyViolations = (d.pragma('foreign_key_check') as unknown[]).length;
    const byState: Record<string, number> = {};
    let messages = 0;
    for (const r of d.prepare('SELECT state, COUNT(*) AS n FROM messages GROUP BY state').all() as Array<{ state: number; n: number }>) {
      byState[String(r.state)] = r.n;
      messages += r.n;
    }
    const outbox = (d.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    const parkedReceipts = (d.prepare('SELECT COUNT(*) AS n FROM parked_receipts').get() as { n: number }).n;
    const has = d.prepare('SELECT 1 FROM messages WHERE id = ?').pluck();
    let acknowledgedMissing = 0;
    for (const id of acknowledged) if (has.get(id) === undefined) acknowledgedMissing++;
    // Stored exactly as sent: addresses in their columns, and the PDU blob.
    const row = d.prepare('SELECT account, source_addr, dest_addr, registered_delivery, pdu FROM messages WHERE id = ?');
    let sampleChecked = 0;
    let sampleMismatches = 0;
    const mismatchExamples: string[] = [];
    for (const { id, expect } of samples) {
      if (replaced.has(id)) continue;
      const r = row.get(id) as { account: string; source_addr: string; dest_addr: string; registered_delivery: number; pdu: Buffer } | undefined;
      if (r === undefined) continue; // counted in acknowledgedMissing
      sampleChecked++;
      const stored = decode(r.pdu) as PduOf<'submit_sm'>;
      const diffs: string[] = [];
      if (r.account !== ACCOUNT.systemId) diffs.push(`account ${JSON.stringify(r.account)}`);
      if (r.source_addr !== expect.source_addr) diffs.push(`source_addr column ${JSON.stringify(r.source_addr)} ≠ ${JSON.stringify(expect.source_addr)}`);
      if (r.dest_addr !== expect.destination_addr) diffs.push(`dest_addr column ${JSON.stringify(r.dest_addr)} ≠ ${JSON.stringify(expect.destination_addr)}`);
      if (r.registered_delivery !== expect.registered_delivery) diffs.push(`registered_delivery column ${r.registered_delivery} ≠ ${expect.registered_delivery}`);
      for (const k of Object.keys(expect) as Array<keyof PduOf<'submit_sm'>>) {
        if (k === 'sequence_number' || k === 'command_status') continue;
        const a = JSON.stringify(stored[k] ?? null);
        const b = JSON.stringify(expect[k] ?? null);
        if (a !== b) diffs.push(`pdu ${k} ${a.slice(0, 80)} ≠ ${b.slice(0, 80)}`);
      }
      if (diffs.length > 0) {
        sampleMismatches++;
        if (mismatchExamples.length < 5) mismatchExamples.push(`message ${id}: ${diffs.join('; ')}`);
      }
    }
    return { integrity, foreignKeyViolations, messages, byState, outbox, parkedReceipts, acknowledgedMissing, sampleChecked, sampleMismatches, mismatchExamples };
  } finally {
    d.close();
  }
}

/** What must hold for a run to pass. */
function verdict(s: GatewayFuzzSummary, o: GatewayFuzzOptions): string[] {
  const f: string[] = [];
  const growthLimit = o.maxRssGrowthMB ?? 150;
  const maxLimit = o.maxRssMB ?? 600;
  if (s.stoppedEarly !== null) f.push(`the run stopped early: ${s.stoppedEarly}`);
  if (s.sent < s.count) f.push(`sent ${s.sent} of ${s.count} units`);
  if (!s.gateway.aliveAtEnd) f.push(`the gateway died during the run (exit ${s.gateway.exitCode}, signal ${s.gateway.exitSignal}): ${s.gateway.stderr.slice(-2000)}`);
  else if (s.gateway.exitCode !== 0) f.push(`the gateway exited ${s.gateway.exitCode} (signal ${s.gateway.exitSignal}) on SIGTERM: ${s.gateway.stderr.slice(-2000)}`);
  if (s.anomalyCount > 0) f.push(`${s.anomalyCount} anomalies: ${JSON.stringify(s.anomaliesByKind)}`);
  if ((s.responsesByStatus.ESME_RSYSERR ?? 0) > 0) f.push(`${s.responsesByStatus.ESME_RSYSERR} requests answered ESME_RSYSERR (a handler failed)`);
  if (s.health.failures > 0) f.push(`/healthz failed ${s.health.failures} of ${s.health.checks} times`);
  if (s.rss.beforeMB !== null && s.rss.afterMB !== null && s.rss.afterMB - s.rss.beforeMB > growthLimit) f.push(`RSS grew ${(s.rss.afterMB - s.rss.beforeMB).toFixed(1)} MB (limit ${growthLimit})`);
  if (s.rss.maxMB > maxLimit) f.push(`RSS reached ${s.rss.maxMB} MB (limit ${maxLimit})`);
  if (s.rss.beforeMB === null || s.rss.afterMB === null) f.push('RSS not measured before and after');
  const fc = s.finalCheck;
  if (fc === null || fc.accepted !== fc.submitted || fc.receipts !== fc.accepted || fc.submitted === 0) f.push(`after the run, a fresh ESME was not served end to end: ${JSON.stringify(fc)}`);
  const db = s.db;
  if (db === null) f.push('the database was not checked');
  else {
    if (db.integrity !== 'ok') f.push(`PRAGMA integrity_check: ${db.integrity}`);
    if (db.foreignKeyViolations > 0) f.push(`${db.foreignKeyViolations} foreign key violations`);
    if (db.acknowledgedMissing > 0) f.push(`${db.acknowledgedMissing} acknowledged messages missing from the ledger`);
    if (db.sampleMismatches > 0) f.push(`${db.sampleMismatches} of ${db.sampleChecked} sampled messages not stored as sent: ${db.mismatchExamples.join(' | ')}`);
    if ((db.byState['0'] ?? 0) > 0) f.push(`${db.byState['0']} messages still queued in the gateway after settling`);
  }
  if (s.logs.lines === 0) f.push('no log lines seen');
  if (s.logs.notJson > 0) f.push(`${s.logs.notJson} stdout lines are not JSON objects`);
  if (s.logs.rawLineBreaks > 0 && !o.skip?.includes('log-nel')) f.push(`${s.logs.rawLineBreaks} log lines carry a raw U+0085/U+2028/U+2029`);
  const errors = Object.entries(s.logs.errors);
  if (errors.length > 0) f.push(`error log lines: ${JSON.stringify(s.logs.errors)}`);
  return f;
}
