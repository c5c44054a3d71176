// The one way a message enters the gateway, whatever door it came through (an SMPP bind, an HTTP
// request, the gateway itself): the ordered checks (account enabled, rate, fields, content, policy, route,
// size), the ledger write, and the hand-over to the carrier side. Resolves with the message's id
// only after the commit; refusals are Refused errors that each door answers in its own terms.
import type { Clock } from '../clock.js';
import type { Metrics } from '../metrics.js';
import { TokenBucket } from '../rate/token-bucket.js';
import type { MtRouter } from '../routing/mt.js';
import { encode } from '../smpp/codec.js';
import { MESSAGE_PAYLOAD_TAG } from '../smpp/defs.js';
import { parseSmppTime } from '../smpp/time.js';
import type { PduInput, Tlv } from '../smpp/pdu.js';
import type { Outgoing } from '../smsc/link.js';
import { inPriorityLane } from '../smsc/priority.js';
import type { Account } from '../store/accounts.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { Ledger, NewMessage, Origin } from '../store/ledger.js';
import { inspectContent } from './content.js';
import { PartGroups, type PartGroup } from './part-groups.js';
import { Refused } from './refused.js';

export type { Origin };

export interface Address {
  addr: string;
  ton: number;
  npi: number;
}

/** A message someone asks the gateway to send. */
export interface MessageRequest {
  /** The account's internal id: for a system message, the account it is charged to. */
  accountId: number;
  origin: Origin;
  source: Address;
  destination: Address;
  /** The text as sent, in `dataCoding`. */
  body: Buffer;
  dataCoding: number;
  esmClass: number;
  /** Optional parameters for the carrier (SMPP TLVs), in order. */
  tlvs?: Tlv[];
  /** The body is the value of a message_payload TLV among `tlvs` (kept where the sender put it). */
  bodyInPayload?: boolean;
  /** SMPP registered_delivery bits: which receipts the sender wants (system messages: what to record). */
  registeredDelivery: number;
  /** When the message stops being worth delivering (ms since the epoch); default: the gateway's validity. */
  validUntil?: number;
  priority?: number;
  protocolId?: number;
  serviceType?: string;
  replaceIfPresent?: number;
  defaultMsgId?: number;
  /** When to deliver (ms since the epoch); default: from scheduleText, else at once. */
  scheduledAt?: number;
  /** SMPP time texts as the sender wrote them, passed on to the carrier unchanged. */
  scheduleText?: string;
  validityText?: string;
}

/** A policy on intake (compliance: opt-outs, keywords): undefined lets the message on. */
export type Policy = (request: MessageRequest, account: Account) => Refused | undefined;

export interface IntakeOptions {
  clock: Clock;
  commit: GroupCommit;
  ledger: Ledger;
  /** The carrier side: takes each part once it is committed. */
  carrier: { accept(msg: Outgoing): void };
  metrics: Metrics;
  account: (accountId: number) => Account | undefined;
  router: () => MtRouter;
  /** Validity when the request gives none; a request's is capped at 7 times it. */
  defaultValidityMs: number;
  /** The largest PDU a carrier is sent (smpp.session.maxPduSize). */
  maxPduSize: number;
  policy?: Policy;
  /** How long the parts of one message a sender split itself are kept on one carrier (default 30 min). */
  joinTimeoutMs?: number;
  /** Wall-clock time (stored in the ledger); default Date.now. */
  now?: () => number;
}

const SMPP_MAX_ADDRESS = 20;
const SHORT_MESSAGE_MAX = 254;

export class Intake {
  private readonly buckets = new Map<number, TokenBucket>();
  private readonly groups: PartGroups;
  private readonly now: () => number;
  /** Replaced by the compliance rooms when they start. */
  policy: Policy | undefined;

  constructor(private readonly o: IntakeOptions) {
    this.now = o.now ?? Date.now;
    this.policy = o.policy;
    this.groups = new PartGroups(o.joinTimeoutMs ?? 30 * 60_000);
  }

  /** Applies new account rates (after a table change). */
  reload(accounts: readonly Account[]): void {
    for (const a of accounts) this.buckets.get(a.id)?.setRate(a.tps);
    for (const id of this.buckets.keys()) if (!accounts.some((a) => a.id === id)) this.buckets.delete(id);
  }

  /** Checks, routes and stores one message; resolves with its id (its first part's row) after the commit. */
  async submit(request: MessageRequest): Promise<number> {
    let req = request;
    const account = this.o.account(req.accountId);
    if (!account) throw new Refused('unknown_account', 'no such account');
    // The operator's kill switch works on binds already up, too.
    if (!account.enabled) throw new Refused('account_disabled', 'account disabled');
    const system = req.origin === 'system';
    // Rates count what carriers count: one submit_sm per part. A system message (a compliance
    // reply) is counted against its account but never refused for it.
    const parts = 1;
    const bucket = this.bucket(account);
    if (system) bucket.charge(parts);
    else if (!bucket.take(parts)) {
      this.o.metrics.accountThrottled.inc({ account: account.systemId });
      throw new Refused('throttled');
    }
    const dest = req.destination.addr;
    if (dest === '') throw new Refused('invalid_destination', 'destination is empty');
    if (dest.length > SMPP_MAX_ADDRESS) throw new Refused('invalid_destination', 'destination is longer than a carrier takes');
    if (req.source.addr.length > SMPP_MAX_ADDRESS) throw new Refused('invalid_source', 'source is longer than a carrier takes');
    const now = this.now();
    // A message scheduled for later counts its validity from then (a relative validity_period too).
    const scheduled = req.scheduledAt ?? (req.scheduleText ? parseSmppTime(req.scheduleText, now) : undefined);
    const dueAt = scheduled !== undefined && scheduled > now ? scheduled : undefined;
    const from = dueAt ?? now;
    let expiresAt = from + this.o.defaultValidityMs;
    if (req.validUntil !== undefined) {
      if (req.validUntil <= now) throw new Refused('invalid_validity', 'validity is in the past');
      const until = dueAt !== undefined && req.validityText?.endsWith('R') === true ? req.validUntil - now + from : req.validUntil;
      expiresAt = Math.min(until, from + 7 * this.o.defaultValidityMs);
    }
    // The content: its coding, header and part count (folded for an account that asks).
    const content = inspectContent(req, account);
    if (content.folded) req = { ...req, body: content.folded, dataCoding: 0 };
    if (!system && this.policy) {
      const refused = this.policy(req, account);
      if (refused) throw refused;
    }
    const route = this.o.router().route({ account: account.systemId, source: req.source.addr, destination: dest }, now);
    if (!route) throw new Refused('no_route', 'no route');
    const c = content.concat;
    // A part the sender split itself goes where the message's first part went.
    const group: PartGroup | undefined = c
      ? this.groups.join({ accountId: account.id, source: req.source.addr, destination: dest, ref: c.ref, total: c.total }, route.connectors, now)
      : undefined;
    const bytes = encode(carrierForm(req));
    // What no carrier link could carry is refused here rather than accepted and failed later.
    if (bytes.length > this.o.maxPduSize) throw new Refused('too_large', `${bytes.length} bytes as a submit_sm; the limit is ${this.o.maxPduSize}`);
    // Everything the rest needs is taken out of the request now: nothing holds it (or its body)
    // while the commit waits for the disk.
    const origin = req.origin;
    // priority_flag is honoured up to the account's grant: a bulk sender's flag leaves it in the normal lane.
    const priority = inPriorityLane(req.priority ?? 0, account.maxPriority);
    const accountId = account.id;
    const connectors = group ? group.connectors : route.connectors;
    const row: NewMessage = {
      accountId,
      origin,
      sourceAddr: req.source.addr,
      destAddr: dest,
      registeredDelivery: req.registeredDelivery,
      pdu: bytes,
      routeId: route.routeId,
      connectors,
      expiresAt,
      now,
      dueAt,
    };
    const id = await this.o.commit.run(() => (group && c ? this.insertPart(row, group, c.seq, c.total) : this.o.ledger.insert(row)));
    this.o.metrics.accepted.mark(account.systemId);
    this.o.carrier.accept({
      id,
      accountId,
      origin,
      pdu: bytes,
      connectors,
      tried: 0,
      attempts: 0,
      expiresAt,
      submittedAt: now,
      priority,
      dueAt,
      ...(group ? { msg: group.msg ?? id } : {}),
    });
    return id;
  }

  /** Stores part `seq` of `total` of a group (inside the commit job: the first part stored names the message). */
  private insertPart(row: NewMessage, group: PartGroup, seq: number, total: number): number {
    const id = this.o.ledger.insert({ ...row, ...(group.msg !== undefined ? { msg: group.msg } : {}), part: seq - 1, parts: total });
    group.msg ??= id;
    return id;
  }

  private bucket(account: Account): TokenBucket {
    let b = this.buckets.get(account.id);
    if (!b) this.buckets.set(account.id, (b = new TokenBucket(account.tps, this.o.clock)));
    return b;
  }
}

/** The submit_sm a carrier is sent for a request (sequence number set when sent). */
function carrierForm(req: MessageRequest): PduInput<'submit_sm'> {
  let shortMessage = req.body;
  let tlvs = req.tlvs;
  if (req.bodyInPayload) shortMessage = EMPTY;
  else if (req.body.length > SHORT_MESSAGE_MAX) {
    shortMessage = EMPTY;
    tlvs = [...(tlvs ?? []), { tag: MESSAGE_PAYLOAD_TAG, value: req.body }];
  }
  return {
    command: 'submit_sm',
    sequence_number: 1,
    service_type: req.serviceType ?? '',
    source_addr_ton: req.source.ton,
    source_addr_npi: req.source.npi,
    source_addr: req.source.addr,
    dest_addr_ton: req.destination.ton,
    dest_addr_npi: req.destination.npi,
    destination_addr: req.destination.addr,
    esm_class: req.esmClass,
    protocol_id: req.protocolId ?? 0,
    priority_flag: req.priority ?? 0,
    schedule_delivery_time: req.scheduleText ?? '',
    validity_period: req.validityText ?? '',
    registered_delivery: req.registeredDelivery,
    replace_if_present_flag: req.replaceIfPresent ?? 0,
    data_coding: req.dataCoding,
    sm_default_msg_id: req.defaultMsgId ?? 0,
    short_message: shortMessage,
    tlvs,
  };
}

const EMPTY = Buffer.alloc(0);
