// What the carrier side needs of a link to one carrier SMSC (connector.ts is the SMPP one; the
// unit tests use fakes): a queue it paces out, its state, and a way to send cancel_sm/replace_sm.
import type { Pdu, PduInput } from '../smpp/pdu.js';
import type { ResponseInit } from '../smpp/session.js';
import type { Connector } from '../store/connectors.js';
import type { Origin } from '../store/ledger.js';

/** A message (one part of one) on its way to a carrier. */
export interface Outgoing {
  id: number;
  accountId: number;
  /** Where it came from (default 'smpp'): a system message puts no receipt in any outbox. */
  origin?: Origin;
  /** The submit_sm as the account sent it, encoded (compact while queued). */
  pdu: Buffer;
  /** Candidate connectors from the route, in order; `tried` indexes the current one. */
  connectors: string[];
  tried: number;
  attempts: number;
  expiresAt: number;
  submittedAt: number;
  /** Goes in the connector's priority lane (its priority_flag, up to what its account is granted). */
  priority?: boolean;
  /** Scheduled for later (ms since the epoch): a `--schedule hold` connector keeps it in the ledger until then. */
  dueAt?: number | undefined;
  /** A message of several parts: its first part's id, shared by every part (they go out together). */
  msg?: number;
  /** Set by cancel_sm while the message waits here: it is skipped, not sent. */
  cancelled?: boolean;
  /** On the wire: sent, response not yet in. */
  inFlight?: boolean;
  /** Times sent again after no answer (a response timeout or a lost connection). */
  resends?: number;
}

export type SubmitOutcome =
  | { kind: 'ok'; smscId: string; ms: number }
  | { kind: 'status'; status: number; ms: number }
  /** No answer in time. `waiting`: the connector is `--on-timeout wait`: not to be sent again, a late answer still comes here. */
  | { kind: 'timeout'; ms: number; waiting?: boolean }
  /** `--on-timeout wait`: no late answer either (or the link went down first); the carrier may have it. */
  | { kind: 'unanswered'; ms: number }
  | { kind: 'closed'; ms: number }
  /** Its validity ran out while it waited here: not sent. */
  | { kind: 'expired'; ms: number };

export interface ConnectorHooks {
  /** A request from the SMSC (receipt or MO); the promise settles once its work is committed. */
  inbound(pdu: Pdu, connector: string): Promise<ResponseInit>;
  result(msg: Outgoing, outcome: SubmitOutcome, connector: string): void;
  /** The connector went up (true) or down (false). */
  state(connector: string, up: boolean): void;
}

/** A cancel_sm or replace_sm for the carrier, naming the message by the carrier's id. */
export type CarrierRequest = Omit<PduInput<'cancel_sm'>, 'sequence_number'> | Omit<PduInput<'replace_sm'>, 'sequence_number'>;

export interface CarrierLink {
  readonly id: string;
  /** Bound and able to send. */
  readonly up: boolean;
  /** Messages waiting here to go out. */
  readonly queued: number;
  /** Submit time (ms since the epoch) of the oldest message waiting in a lane; undefined when none. */
  oldest(priority: boolean): number | undefined;
  readonly inFlight: number;
  readonly settings: Connector;
  start(): void;
  /** Takes new rate and window settings without dropping the bind. */
  update(config: Connector): void;
  /** The carrier said "throttled": go slower for a while. */
  slowDown(): void;
  enqueue(msg: Outgoing): void;
  /** Forgets queued messages that were cancelled or expired while waiting. */
  dropCancelled(): void;
  /** Takes every queued message out (to send them elsewhere). */
  drainQueue(): Outgoing[];
  /** Probes and binds again after `timeouts` response timeouts in a row. */
  rebind(timeouts: number): void;
  /** Sends `pdu` on the bound session; resolves with the carrier's command_status. Undefined when down. */
  forward(pdu: CarrierRequest): Promise<number> | undefined;
  /** Unbinds (in-flight answered up to the deadline) and stops reconnecting. */
  stop(deadlineMs: number): Promise<void>;
}
