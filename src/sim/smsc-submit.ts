// The SMSC simulator's request handling: submit_sm, data_sm and submit_multi get a fresh
// carrier-style message id, or misbehave on request (--throttle's sliding one-second window,
// --error-rate, --drop-rate, --disconnect-after with or without --disconnect-mid-window); an
// accepted submit is remembered for query_sm and gets its receipts made (one per destination,
// handed to the delivery lines). cancel_sm and replace_sm are refused, anything else is
// ESME_RINVCMDID. Counting and duplicate detection by message key are done here too.
import type { Clock } from '../clock.js';
import { MessageState } from '../smpp/message-state.js';
import { receiptBody } from '../dlr/receipt.js';
import { SmppError } from '../smpp/errors.js';
import { Fifo } from '../util/fifo.js';
import type { Logger } from '../log.js';
import { ESME_RINVCMDID, ESME_RTHROTTLED, Status, MESSAGE_PAYLOAD_TAG } from '../smpp/defs.js';
import { formatSmppTime } from '../smpp/time.js';
import type { Pdu, PduOf } from '../smpp/pdu.js';
import type { ResponseInit, Session } from '../smpp/session.js';
import type { SessionState } from '../smpp/states.js';
import type { Deliveries, Outgoing } from './smsc-delivery.js';
import { DEFAULT_ERROR_STATUSES, type Conn, type SmscEvent, type SmscSimOptions, type SmscStats } from './smsc-types.js';
import { decodeText, pickWeighted, statusKey, type StatWeight } from './util.js';

const ESME_RQUERYFAIL = Status.ESME_RQUERYFAIL;
const ESME_RCANCELFAIL = Status.ESME_RCANCELFAIL;
const ESME_RREPLACEFAIL = Status.ESME_RREPLACEFAIL;

interface Tracked {
  state: number;
  /** Wall-clock time the final state is reached. */
  doneAt: number;
}

/** The duplicate-detection key of a submit: source, destination(s) and message text (raw octets). */
export function messageKey(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>): string {
  const dest = pdu.command === 'submit_multi' ? pdu.dest_address.map((d) => d.destination_addr).join(',') : pdu.destination_addr;
  const body = 'short_message' in pdu && pdu.short_message.length > 0 ? pdu.short_message : pdu.tlvs?.find((t) => t.tag === MESSAGE_PAYLOAD_TAG)?.value;
  return `${pdu.source_addr}\u0000${dest}\u0000${body ? body.toString('latin1') : ''}`;
}

/** What the request handling needs from the simulator that owns it. */
export interface SubmitHost {
  readonly options: SmscSimOptions;
  readonly stats: SmscStats;
  /** Accepted submits per message key (see messageKey). */
  readonly keys: Map<string, number>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly log: Logger;
  readonly deliveries: Deliveries;
  conn(session: Session): Conn;
  record(ev: SmscEvent): void;
  /** The session's state changed (here: to unbinding, when --disconnect-after drops it). */
  onState(session: Session, state: SessionState): void;
}

export class SubmitHandler {
  private readonly options: SmscSimOptions;
  private readonly stats: SmscStats;
  private readonly keys: Map<string, number>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly tracked = new Map<string, Tracked>();
  /** The tracked ids, oldest first: forgetting through the Map's own order slows down as it is deleted from the front. */
  private readonly trackedOrder = new Fifo<string>();
  private readonly errorStatuses: readonly number[];
  private nextId: number;
  private throttleRing: Float64Array | undefined;
  private throttleHead = 0;
  private throttleCount = 0;

  /** `weights`: the receipt states drawn per accepted submit (parsed by the caller, first). */
  constructor(
    private readonly host: SubmitHost,
    private readonly weights: StatWeight[],
  ) {
    const options = host.options;
    this.options = options;
    this.stats = host.stats;
    this.keys = host.keys;
    this.clock = host.clock;
    this.random = host.random;
    this.log = host.log;
    this.errorStatuses = options.errorStatuses && options.errorStatuses.length > 0 ? options.errorStatuses : DEFAULT_ERROR_STATUSES;
    this.nextId = options.idStart ?? Date.now() * 1000;
    if (!Number.isSafeInteger(this.nextId) || this.nextId < 0) throw new RangeError(`idStart ${options.idStart} is not a safe non-negative integer`);
    for (const [name, v] of [
      ['errorRate', options.errorRate],
      ['dropRate', options.dropRate],
    ] as const) {
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`${name} ${v} is outside 0..1`);
    }
    if ((options.throttle ?? 0) > 0) this.throttleRing = new Float64Array(Math.ceil(options.throttle!));
  }

  // ---- requests ---------------------------------------------------------------------------------

  /** Answers a request other than a bind, unbind or enquire_link (the session answers those). */
  onRequest(pdu: Pdu, session: Session): ResponseInit | Promise<ResponseInit> {
    switch (pdu.command) {
      case 'submit_sm':
      case 'data_sm':
      case 'submit_multi':
        return this.onSubmit(pdu, session);
      case 'query_sm':
        return this.onQuery(pdu);
      case 'cancel_sm':
        throw new SmppError(ESME_RCANCELFAIL);
      case 'replace_sm':
        throw new SmppError(ESME_RREPLACEFAIL);
      default:
        throw new SmppError(ESME_RINVCMDID);
    }
  }

  private onSubmit(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>, session: Session): ResponseInit | Promise<ResponseInit> {
    const c = this.host.conn(session);
    c.submits++;
    this.stats.submits++;
    const key = messageKey(pdu);
    const base = { session: session.id, systemId: session.systemId, command: pdu.command, key };
    if (c.disconnecting || this.options.neverAnswer === true) return this.drop(c, base);
    const every = this.options.disconnectAfter ?? 0;
    if (every > 0 && c.submits % every === 0) {
      if (this.options.disconnectMidWindow === true) return this.cut(c, pdu, base);
      this.disconnect(c);
    }
    if (!this.admit()) return this.answer(base, 'throttled', ESME_RTHROTTLED);
    if ((this.options.dropRate ?? 0) > 0 && this.random() < this.options.dropRate!) return this.drop(c, base);
    if ((this.options.errorRate ?? 0) > 0 && this.random() < this.options.errorRate!) {
      const status = this.errorStatuses[Math.floor(this.random() * this.errorStatuses.length)] ?? this.errorStatuses[0]!;
      return this.answer(base, 'error', status);
    }
    const { messageId, duplicate } = this.take(pdu, session.systemId, key);
    this.count(0);
    this.stats.submitsOk++;
    this.log.debug({ ...base, messageId }, 'submit accepted');
    this.host.record({ type: 'submit', ...base, outcome: 'accepted', status: 0, messageId, duplicate });
    return pdu.command === 'submit_multi' ? { message_id: messageId, unsuccess_sme: [] } : { message_id: messageId };
  }

  /** A new message id for an accepted submit, counted by its key; its receipts are made. */
  private take(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>, systemId: string, key: string): { messageId: string; duplicate: boolean } {
    const messageId = this.newId();
    const seen = this.keys.get(key) ?? 0;
    this.keys.set(key, seen + 1);
    if (seen === 0) this.stats.uniqueKeys++;
    else this.stats.duplicates++;
    this.accept(pdu, systemId, messageId);
    return { messageId, duplicate: seen > 0 };
  }

  private answer(base: { session: string; systemId: string; command: string; key: string }, outcome: 'throttled' | 'error', status: number): ResponseInit {
    if (outcome === 'throttled') this.stats.submitsThrottled++;
    else this.stats.submitsFailed++;
    this.count(status);
    this.log.debug({ ...base, status: statusKey(status) }, `submit ${outcome}`);
    this.host.record({ type: 'submit', ...base, outcome, status, duplicate: false });
    return { command_status: status };
  }

  /** No answer: the session sees the request handled only when the connection closes. */
  private drop(c: Conn, base: { session: string; systemId: string; command: string; key: string }): Promise<ResponseInit> {
    this.stats.submitsDropped++;
    this.log.debug(base, 'submit dropped (no response)');
    this.host.record({ type: 'submit', ...base, outcome: 'dropped', duplicate: false });
    return new Promise((resolve) => c.held.push(() => resolve({})));
  }

  private count(status: number): void {
    const k = statusKey(status);
    this.stats.statuses[k] = (this.stats.statuses[k] ?? 0) + 1;
  }

  /** Sliding one-second window over all binds: true when one more submit fits under --throttle. */
  private admit(): boolean {
    const ring = this.throttleRing;
    if (ring === undefined) return true;
    const now = this.clock.now();
    if (this.throttleCount < ring.length) {
      ring[(this.throttleHead + this.throttleCount++) % ring.length] = now;
      return true;
    }
    if (now - ring[this.throttleHead]! < 1000) return false;
    ring[this.throttleHead] = now;
    this.throttleHead = (this.throttleHead + 1) % ring.length;
    return true;
  }

  /** Answers the submit that reached the count, then closes the connection without unbind. */
  private disconnect(c: Conn): void {
    c.disconnecting = true;
    this.stats.disconnects++;
    const s = c.session;
    // Nothing more goes out on it: a deliver_sm written after our FIN would be lost unnoticed.
    this.host.onState(s, 'unbinding');
    this.log.info({ session: s.id, systemId: s.systemId, submits: c.submits }, 'dropping the connection (--disconnect-after)');
    this.host.record({ type: 'disconnect', session: s.id, systemId: s.systemId, submits: c.submits });
    // The response is written when this handler returns and flushed on the next check phase: end
    // the socket one turn later, so the response goes out before the FIN.
    setImmediate(() =>
      setImmediate(() => {
        if (s.socket.destroyed) return;
        s.socket.end();
        this.clock.setTimeout(() => s.destroy('simulated disconnect'), 1_000);
      }),
    );
  }

  /**
   * --disconnect-mid-window: the submit that reached the count is taken (a message id, its
   * receipts) but never answered, and the connection is destroyed now, without unbind: the client
   * loses it with its window outstanding and cannot know this one was taken. Answers to earlier
   * submits still queued in our writer may or may not reach it; submits behind this one in the
   * same read are dropped (the session is closed before they are handled).
   */
  private cut(
    c: Conn,
    pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>,
    base: { session: string; systemId: string; command: string; key: string },
  ): ResponseInit {
    const s = c.session;
    const { messageId, duplicate } = this.take(pdu, s.systemId, base.key);
    this.stats.submitsLost++;
    this.log.debug({ ...base, messageId }, 'submit taken, answer lost (--disconnect-mid-window)');
    this.host.record({ type: 'submit', ...base, outcome: 'lost', messageId, duplicate });
    c.disconnecting = true;
    this.stats.disconnects++;
    this.log.info({ session: s.id, systemId: s.systemId, submits: c.submits }, 'cutting the connection (--disconnect-mid-window)');
    this.host.record({ type: 'disconnect', session: s.id, systemId: s.systemId, submits: c.submits });
    // Closed before this handler returns: the session writes no answer for it.
    s.destroy('simulated disconnect (mid-window)');
    return {};
  }

  private newId(): string {
    const n = this.nextId++;
    return this.options.idFormat === 'dec' ? String(n) : n.toString(16);
  }

  private onQuery(pdu: PduOf<'query_sm'>): ResponseInit {
    this.stats.queries++;
    const t = this.tracked.get(pdu.message_id);
    if (t === undefined) throw new SmppError(ESME_RQUERYFAIL);
    const now = Date.now();
    const done = now >= t.doneAt;
    return {
      message_id: pdu.message_id,
      final_date: done ? formatSmppTime(t.doneAt) : '',
      message_state: done ? t.state : MessageState.ENROUTE,
      error_code: 0,
    };
  }

  /** An accepted submit: remember it for query_sm and create its receipts. */
  private accept(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>, systemId: string, messageId: string): void {
    const draw = pickWeighted(this.weights, this.random);
    const delay = Math.max(0, this.options.dlrDelayMs ?? 1000);
    const now = Date.now();
    if (!this.tracked.has(messageId)) this.trackedOrder.push(messageId);
    this.tracked.set(messageId, { state: draw.state, doneAt: now + delay });
    const max = this.options.maxTracked ?? 1_000_000;
    while (this.tracked.size > max) this.tracked.delete(this.trackedOrder.shift()!);
    const rd = pdu.registered_delivery & 0x03;
    if (rd === 0 || (rd === 2 && draw.state === MessageState.DELIVERED)) return;
    const text = printable(decodeText(pdu.data_coding, 'short_message' in pdu ? pdu.short_message : undefined, pdu.tlvs));
    const dests =
      pdu.command === 'submit_multi'
        ? pdu.dest_address.filter((d) => d.dest_flag === 1).map((d) => ({ ton: d.dest_addr_ton, npi: d.dest_addr_npi, addr: d.destination_addr }))
        : [{ ton: pdu.dest_addr_ton, npi: pdu.dest_addr_npi, addr: pdu.destination_addr }];
    const err = draw.state === MessageState.DELIVERED || draw.state === MessageState.ACCEPTED || draw.state === MessageState.ENROUTE ? '000' : '001';
    for (const d of dests) {
      const body = receiptBody({ id: messageId, state: draw.state, err, submittedAt: now, doneAt: now + delay, text });
      const out: Outgoing = {
        kind: 'receipt',
        target: systemId,
        messageId,
        stat: draw.stat,
        text,
        attempts: 0,
        pdu: {
          command: 'deliver_sm',
          source_addr_ton: d.ton,
          source_addr_npi: d.npi,
          source_addr: d.addr,
          dest_addr_ton: pdu.source_addr_ton,
          dest_addr_npi: pdu.source_addr_npi,
          destination_addr: pdu.source_addr,
          esm_class: 0x04,
          data_coding: 0,
          short_message: body.short_message,
          tlvs: body.tlvs,
        },
      };
      this.stats.receiptsCreated++;
      if (delay === 0) this.host.deliveries.ready(out);
      else this.host.deliveries.delay(out);
    }
  }
}

/** The receipt's text: field takes printable ASCII only. */
function printable(s: string): string {
  return s.slice(0, 20).replace(/[^\x20-\x7e]/g, '?');
}
