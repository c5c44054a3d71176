// The SMSC simulator's shapes: its options, the events it emits, its counters and summary, and
// the per-connection record the submit handling keeps. Everything here but Conn is re-exported by
// src/sim/smsc.ts, which is where other code imports it from; this file only holds the types (and
// the default error statuses and the zeroed counters) so the simulator's parts can share them
// without importing each other.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Tlv } from '../smpp/pdu.js';
import type { ServerTlsOptions, SessionDefaults } from '../smpp/server.js';
import type { Session } from '../smpp/session.js';
import type { StatWeight } from './util.js';

/**
 * The statuses --error-rate draws from when no --error-status is given: temporary ones a client
 * should retry (0x14 ESME_RMSGQFUL, 0x58 ESME_RTHROTTLED, 0x08 ESME_RSYSERR) and permanent ones it
 * should not (0x0B ESME_RINVDSTADR, 0x45 ESME_RSUBMITFAIL).
 */
export const DEFAULT_ERROR_STATUSES: readonly number[] = [0x14, 0x58, 0x08, 0x0b, 0x45];

export interface SmscSimOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port (read it from start()'s result or `port`). */
  port?: number;
  /** When set, binds must give this system_id (else ESME_RINVSYSID); any system_id otherwise. */
  systemId?: string;
  /** When set, binds must give this password (else ESME_RINVPASWD). */
  password?: string;
  /** Refuse the first N binds that would be accepted with ESME_RBINDFAIL, then accept (default 0). */
  bindFailures?: number;
  /** Fraction 0..1 of binds that would be accepted refused with ESME_RBINDFAIL (default 0). */
  bindFailRate?: number;
  /** The system_id we answer binds with (default SIMSMSC). */
  smscId?: string;
  /** Message ids in hex (default) or decimal. */
  idFormat?: 'hex' | 'dec';
  /** The first message id's number (default: wall-clock ms × 1000, unique across restarts). */
  idStart?: number;
  /** Delay from submit response to receipt in ms (default 1000; 0: right after the response). */
  dlrDelayMs?: number;
  /** Receipt states and their weights: `DELIVRD=90,UNDELIV=10` (default DELIVRD=100). */
  dlrStat?: string | StatWeight[];
  /** MO messages per second to bound receivers (default 0: none). */
  moRate?: number;
  /** MO sender: an address or a range FROM..TO (default 4917000000..4917099999). */
  moFrom?: string;
  /** MO recipients (short codes), one picked at random per MO (default ['12345']). */
  moTo?: string[];
  /** MO texts, one picked at random per MO (default ['VOTE A']). */
  moText?: string[];
  /** Stop after this many MOs (default: no limit). */
  moCount?: number;
  /** Send MOs only to receivers of this system_id (default: any bound receiver). */
  moSystemId?: string;
  /** At most this many submits per second over all binds; more get ESME_RTHROTTLED (default 0: no limit). */
  throttle?: number;
  /** Fraction 0..1 of submits answered with an error status (default 0). */
  errorRate?: number;
  /** The statuses --error-rate draws from, uniformly (default DEFAULT_ERROR_STATUSES). */
  errorStatuses?: number[];
  /** Bind, answer enquire_link, never answer a submit (a carrier wedged behind its bind). Default false. */
  neverAnswer?: boolean;
  /** Fraction 0..1 of submits that get no response at all (default 0). */
  dropRate?: number;
  /** Close the connection after every N submits on a session (default 0: never). */
  disconnectAfter?: number;
  /**
   * With disconnectAfter: cut the connection at the Nth submit instead of after answering it. The
   * Nth is taken (message id, receipt) but never answered, and nothing behind it is answered
   * either: the client loses the connection with its window outstanding (default false).
   */
  disconnectMidWindow?: boolean;
  /** Outstanding deliver_sm per bind (default 10). */
  window?: number;
  /** deliver_sm response timeout in ms (default 10 s). */
  dlrTimeoutMs?: number;
  /** Delay before a deliver_sm is tried again after a timeout or a temporary error (default 1 s). */
  retryDelayMs?: number;
  /** Tries per receipt or MO before it is given up (default 5). A closed session does not count. */
  maxAttempts?: number;
  /** Messages remembered for query_sm (default 1,000,000; the oldest are forgotten). */
  maxTracked?: number;
  /** Other session settings (enquire_link interval, bind timeout, …). */
  session?: SessionDefaults;
  /** Listen with TLS (1.2+) instead of plain TCP: our certificate and key, and client certificate checks. */
  tls?: ServerTlsOptions;
  random?: () => number;
  clock?: Clock;
  logger?: Logger;
}

/** `lost`: taken (message id, receipt) but never answered, by disconnectMidWindow. */
export type SubmitOutcome = 'accepted' | 'throttled' | 'error' | 'dropped' | 'lost';

/** One MO for sendMo(). */
export interface MoMessage {
  /** The subscriber (source_addr). TON/NPI as for --mo-from: 7+ digits 1/1, fewer 3/0, else 5/0. */
  from: string;
  /** The short code or number written to (destination_addr), TON/NPI likewise. */
  to: string;
  /** ASCII goes as data_coding 0, anything else as UCS-2 (data_coding 8), as for --mo-text. */
  text: string;
  /** Only receivers bound with this system_id take it (default: any bound receiver). */
  systemId?: string;
  /** TLVs added to the deliver_sm as given. */
  tlvs?: Tlv[];
}

export type SmscEvent =
  | { type: 'bind'; session: string; systemId: string; command: string; status: number }
  | {
      type: 'submit';
      session: string;
      systemId: string;
      command: string;
      outcome: SubmitOutcome;
      /** The status answered (absent when dropped or lost). */
      status?: number;
      messageId?: string;
      key: string;
      /** Accepted before under the same key. */
      duplicate: boolean;
    }
  | { type: 'disconnect'; session: string; systemId: string; submits: number }
  | { type: 'receipt'; session: string; systemId: string; messageId: string; stat: string; status: number }
  | { type: 'mo'; session: string; systemId: string; from: string; to: string; text: string; status: number }
  | { type: 'close'; session: string; systemId: string; reason: string };

export interface SmscStats {
  /** Binds accepted / refused. */
  binds: number;
  bindsRefused: number;
  /** … of the refused: ESME_RBINDFAIL by --bind-failures / --bind-fail-rate. */
  bindsFailed: number;
  /** submit_sm, data_sm and submit_multi received. */
  submits: number;
  /** … answered ESME_ROK with a message id. */
  submitsOk: number;
  /** … answered ESME_RTHROTTLED by --throttle. */
  submitsThrottled: number;
  /** … answered an error status by --error-rate. */
  submitsFailed: number;
  /** … never answered (--drop-rate, and submits that arrive after --disconnect-after). */
  submitsDropped: number;
  /** … taken (message id, receipt) but never answered: the Nth under --disconnect-mid-window. */
  submitsLost: number;
  /** Every status answered to a submit, by hex (`0x00` included). */
  statuses: Record<string, number>;
  /** Distinct message keys among accepted submits, and accepted submits whose key was seen before. */
  uniqueKeys: number;
  duplicates: number;
  /** Connections dropped by --disconnect-after (with or without --disconnect-mid-window). */
  disconnects: number;
  queries: number;
  /** Receipts created (one per accepted submit asking for one, per destination). */
  receiptsCreated: number;
  /** deliver_sm receipts written (retries included), answered ESME_ROK, answered otherwise. */
  receiptsSent: number;
  receiptsAcked: number;
  receiptsRefused: number;
  /** Receipts given up after maxAttempts. */
  receiptsExpired: number;
  /** Receipts by stat word. */
  receiptStats: Record<string, number>;
  mosCreated: number;
  mosSent: number;
  mosAcked: number;
  mosRefused: number;
  mosExpired: number;
}

export interface SmscSummary extends SmscStats {
  activeBinds: number;
  receiptsPending: number;
  mosPending: number;
  uptimeMs: number;
}

/** One connection as the submit handling sees it (internal: not re-exported by smsc.ts). */
export interface Conn {
  session: Session;
  submits: number;
  disconnecting: boolean;
  /** Releases the submits held without an answer (dropped). */
  held: Array<() => void>;
}

/** Fresh counters, all zero. */
export function emptyStats(): SmscStats {
  return {
    binds: 0,
    bindsRefused: 0,
    bindsFailed: 0,
    submits: 0,
    submitsOk: 0,
    submitsThrottled: 0,
    submitsFailed: 0,
    submitsDropped: 0,
    submitsLost: 0,
    statuses: {},
    uniqueKeys: 0,
    duplicates: 0,
    disconnects: 0,
    queries: 0,
    receiptsCreated: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsRefused: 0,
    receiptsExpired: 0,
    receiptStats: {},
    mosCreated: 0,
    mosSent: 0,
    mosAcked: 0,
    mosRefused: 0,
    mosExpired: 0,
  };
}
