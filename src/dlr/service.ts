// Receipts end to end: record the carrier's id when a submit is accepted, match the carrier's
// receipt to the ledger (parking it when it beat its submit_sm_resp), and put the receipt the
// account asked for into the account's outbox, as a record naming the message (its ledger row):
// the receiver renders the gateway's own id, in the account's format, when it sends it. Every
// change is committed before the caller's promise settles (the SMSC gets deliver_sm_resp only then).
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { decode } from '../smpp/codec.js';
import type { PduOf } from '../smpp/pdu.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { Ledger, Origin } from '../store/ledger.js';
import type { Outbox, OutboxItem, OutboxRecord } from '../store/outbox.js';
import { foldId, parkedIdCandidates, receiptIdCandidates, type IdHint } from './ids.js';
import { MessageState, isFinal } from '../smpp/message-state.js';
import { statOf, type Receipt } from './receipt.js';
import type { DefaultAlphabet } from '../text/codings.js';
import { textOf } from '../text/content.js';

export interface ReceiptServiceOptions {
  commit: GroupCommit;
  ledger: Ledger;
  outbox: Outbox;
  /** Takes receipts to deliver, after their commit. */
  deliver: (items: OutboxItem[]) => void;
  /** A live account by internal id (what data_coding 0 means to it); undefined once removed: it gets no receipts. */
  account: (accountId: number) => { dc0: DefaultAlphabet } | undefined;
  /** The receipt's text: field carries the message's first 20 characters (default); false: always empty. */
  receiptText?: boolean;
  idHint: (connector: string) => IdHint;
  /** How long a receipt waits in the outbox for its account to bind. */
  ttlMs: number;
  metrics: Metrics;
  logger: Logger;
  /** Wall-clock time (stored in the ledger). */
  now?: () => number;
}

/** A message as the receipt needs it (from the ledger or from the dispatcher's memory). */
interface ReceiptSubject {
  id: number;
  accountId: number;
  /** A system message (default: an account's) puts no receipt in any outbox. */
  origin?: Origin;
  pdu: Buffer;
  submittedAt: number;
}

/** A carrier receipt applied to its message: the account's receipt to send, and the submit→final time. */
interface Applied {
  item: OutboxItem | undefined;
  finalAfterMs: number | undefined;
}

const EMPTY = Buffer.alloc(0);
const NO_TLVS: never[] = [];

/** The stored error is an integer column: a receipt's err is three digits, anything longer is not kept. */
function errorCode(err: string): number | null {
  return /^\d{1,9}$/.test(err) ? Number(err) : null;
}

/** Does registered_delivery ask for a receipt in this final state? (bits 0–1, SMPP 3.4 §5.2.17) */
export function wantsReceipt(registeredDelivery: number, state: number): boolean {
  switch (registeredDelivery & 0x03) {
    case 1:
      return isFinal(state);
    case 2:
      return isFinal(state) && state !== MessageState.DELIVERED;
    case 3: // SMPP 5.0: success only
      return state === MessageState.DELIVERED;
    default:
      return false;
  }
}

/** The first 20 characters of a message's text, for a receipt's text: field (none for binary content). */
function receiptText(sm: PduOf<'submit_sm'>, dc0: DefaultAlphabet): string {
  return textOf({ esmClass: sm.esm_class, dataCoding: sm.data_coding, shortMessage: sm.short_message, tlvs: sm.tlvs }, dc0, 20);
}

export class ReceiptService {
  private readonly now: () => number;

  constructor(private readonly o: ReceiptServiceOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * The carrier accepted message `id` as `smscIdRaw`; applies receipts that came first, but only
   * those received since the submit went out (`sentAt`): an older one parked under the same id
   * belongs to an earlier message (a repeated receipt, or a carrier reusing its ids).
   */
  recordSent(id: number, connector: string, smscIdRaw: string, sentAt = 0): Promise<void> {
    return this.o.commit
      .run(() => {
        const now = this.now();
        const folded = foldId(smscIdRaw);
        // An empty id: kept as sent without one (no receipt can name it); it ends by its validity.
        this.o.ledger.markSent(id, connector, folded === '' ? null : folded, folded === '' ? null : smscIdRaw, now);
        const applied: Applied[] = [];
        if (folded === '') return applied;
        // Receipts were parked under their own id; the hint says how the receipt's base differs from
        // the response's, so from the response's side every conversion may apply.
        for (const candidate of parkedIdCandidates(smscIdRaw, this.o.idHint(connector))) {
          for (const json of this.o.ledger.takeParked(connector, candidate, sentAt)) {
            const a = this.apply(this.o.ledger.get(id)!, JSON.parse(json) as Receipt, now);
            if (a) applied.push(a);
          }
        }
        return applied;
      })
      .then((applied) => {
        for (const a of applied) this.done(a);
      });
  }

  /** Ends message `msg` in `state` at the gateway (refused, undeliverable, expired). */
  recordFinal(msg: ReceiptSubject, state: number, status: number | null, connector: string | null): Promise<void> {
    return this.o.commit
      .run(() => {
        const now = this.now();
        if (!this.o.ledger.markFinal(msg.id, state, status, now, connector)) return undefined;
        const err = status === null ? '000' : status.toString(16).padStart(3, '0').slice(-3);
        return this.receiptFor(msg, state, err, now);
      })
      .then((item) => this.deliver(item ? [item] : []));
  }

  /** A receipt from a carrier: matched and applied, or parked until its submit_sm_resp is recorded. */
  onCarrierReceipt(connector: string, receipt: Receipt): Promise<void> {
    this.o.metrics.carrierReceipts.inc({ connector, stat: statOf(receipt.state) });
    return this.o.commit
      .run((): Applied | 'parked' | undefined => {
        const now = this.now();
        const candidates = receiptIdCandidates(receipt.id, this.o.idHint(connector));
        // Only a message still waiting for its receipt: carriers reuse ids, and a final message's
        // id may now belong to a newer message whose submit_sm_resp is not recorded yet.
        const err = errorCode(receipt.err);
        for (const candidate of candidates) {
          const record = this.o.ledger.applyReceiptBySmscId(connector, candidate, receipt.state, err, now);
          if (record) return this.applied(record, receipt, now);
        }
        // The parsed receipt carries no text: a parked receipt keeps no message content.
        this.o.ledger.park(connector, candidates[0]!, JSON.stringify(receipt), now);
        return 'parked';
      })
      .then((a) => {
        if (a === 'parked') this.o.metrics.parkedReceipts.inc();
        else if (a) this.done(a);
      });
  }

  // Inside a commit job: SQL only (a job may run twice if another write of its batch fails);
  // metrics and delivery wait for the commit (done()).
  private apply(record: ReceiptSubject, receipt: Receipt, now: number): Applied | undefined {
    if (!this.o.ledger.applyReceipt(record.id, receipt.state, errorCode(receipt.err), now)) return undefined; // already final: a duplicate receipt
    return this.applied(record, receipt, now);
  }

  /** The receipt's state is recorded on `record`: the account's receipt, and the submit→final time. */
  private applied(record: ReceiptSubject, receipt: Receipt, now: number): Applied {
    return { item: this.receiptFor(record, receipt.state, receipt.err, now), finalAfterMs: isFinal(receipt.state) ? now - record.submittedAt : undefined };
  }

  private done(a: Applied): void {
    if (a.finalAfterMs !== undefined) this.o.metrics.submitToReceipt.observe(a.finalAfterMs / 1000);
    if (a.item) this.o.deliver([a.item]);
  }

  /** Puts the account's receipt into its outbox, if it asked for one in this state. */
  private receiptFor(msg: ReceiptSubject, state: number, err: string, now: number): OutboxItem | undefined {
    if (msg.origin === 'system') return undefined;
    const sm = decode(msg.pdu) as PduOf<'submit_sm'>;
    if (!wantsReceipt(sm.registered_delivery, state)) return undefined;
    // Removed since: its messages keep their state for billing, but nobody is there to tell.
    const account = this.o.account(msg.accountId);
    if (!account) return undefined;
    // From the handset to the sender; the text and TLVs are rendered when sent.
    const record: OutboxRecord = {
      kind: 'dlr',
      source: { addr: sm.destination_addr, ton: sm.dest_addr_ton, npi: sm.dest_addr_npi },
      destination: { addr: sm.source_addr, ton: sm.source_addr_ton, npi: sm.source_addr_npi },
      serviceType: '',
      esmClass: 0x04,
      protocolId: 0,
      priorityFlag: 0,
      registeredDelivery: 0,
      dataCoding: 0,
      body: EMPTY,
      tlvs: NO_TLVS,
      messageId: msg.id,
      receipt: { state, err, submittedAt: msg.submittedAt, doneAt: now, text: this.o.receiptText === false ? '' : receiptText(sm, account.dc0) },
    };
    return this.o.outbox.add(msg.accountId, record, now, this.o.ttlMs);
  }

  private deliver(items: OutboxItem[]): void {
    if (items.length > 0) this.o.deliver(items);
  }
}
