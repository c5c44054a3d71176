// The SMSC simulator's way out: deliver_sm for receipts and MO messages. An Outgoing waits in a
// delay line (a receipt's --dlr-delay, a retry's --retry-delay), then in a ready queue per target
// system_id (or the any-receiver queue for MOs without one), and is written round-robin to a bound
// receiver with room in its window. Temporary error answers and timeouts put it back on the retry
// line up to maxAttempts; a closed session hands it to another receiver. A sendMo() caller is told
// how its MO ended through the Outgoing's `settle`.
import type { Clock, TimerHandle } from '../clock.js';
import { PduError, ResponseTimeoutError, SmppError } from '../smpp/errors.js';
import type { Logger } from '../log.js';
import type { PduInput } from '../smpp/pdu.js';
import type { Session } from '../smpp/session.js';
import type { SessionState } from '../smpp/states.js';
import { Fifo } from '../util/fifo.js';
import type { SmscEvent, SmscSimOptions, SmscStats } from './smsc-types.js';
import { statusKey } from './util.js';

/**
 * Statuses of a deliver_sm_resp after which the simulator tries the deliver_sm again later:
 * ESME_RSYSERR, ESME_RMSGQFUL, ESME_RTHROTTLED, and ESME_RINVBNDSTS (an ESME that takes a
 * deliver_sm arriving right behind its bind_resp for one sent before the bind).
 */
const RETRY_STATUSES = new Set([0x04, 0x08, 0x14, 0x58]);

const RECEIVING: ReadonlySet<SessionState> = new Set(['bound_rx', 'bound_trx']);

export interface Outgoing {
  kind: 'receipt' | 'mo';
  /** The system_id whose receivers take it; undefined: any receiver. */
  target: string | undefined;
  pdu: Omit<PduInput<'deliver_sm'>, 'sequence_number'>;
  messageId: string;
  stat: string;
  text: string;
  attempts: number;
  /** sendMo(): told the final status (or why there is none). */
  settle?: { resolve(status: number): void; reject(err: Error): void };
}

/** A FIFO of items each due a fixed delay after it was added, served by one timer. */
class DelayLine<T> {
  private readonly items = new Fifo<{ at: number; item: T }>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly onDue: (item: T) => void,
  ) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push({ at: this.clock.now() + this.delayMs, item });
    this.arm();
  }

  /** The items waiting, in order. */
  peekItems(): T[] {
    return this.items.toArray().map((e) => e.item);
  }

  stop(): T[] {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return this.items.drain().map((e) => e.item);
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const head = this.items.peek();
    if (head === undefined) return;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, head.at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    // Bounded by the queue's length at entry: items pushed by onDue wait for the next timer.
    for (let n = this.items.length; n > 0; n--) {
      const head = this.items.peek();
      if (head === undefined || head.at > now) break;
      this.items.shift();
      this.onDue(head.item);
    }
    this.arm();
  }
}

/** What the delivery side needs from the simulator that owns it. */
export interface DeliveryHost {
  readonly options: SmscSimOptions;
  readonly stats: SmscStats;
  readonly clock: Clock;
  readonly log: Logger;
  /** True once stop() was called (and until the next start()). */
  stopped(): boolean;
  record(ev: SmscEvent): void;
  /** Re-checks the until() conditions. */
  notify(): void;
}

/** The receivers, the ready queues and the delay lines of the deliver_sm going out. */
export class Deliveries {
  /** Bound rx/trx sessions by system_id. */
  private readonly receivers = new Map<string, Session[]>();
  private readonly rr = new Map<string, number>();
  /** Ready deliver_sm by the system_id they go to; MOs for any receiver in `anyQueue`. */
  private readonly queues = new Map<string, Fifo<Outgoing>>();
  private readonly anyQueue = new Fifo<Outgoing>();
  private readonly receiptLine: DelayLine<Outgoing>;
  private readonly retryLine: DelayLine<Outgoing>;
  private readonly stats: SmscStats;
  private readonly clock: Clock;
  private readonly log: Logger;
  private pumpScheduled = false;
  private pumpRetry: TimerHandle | undefined;

  constructor(private readonly host: DeliveryHost) {
    const options = host.options;
    this.stats = host.stats;
    this.clock = host.clock;
    this.log = host.log;
    this.receiptLine = new DelayLine(this.clock, Math.max(0, options.dlrDelayMs ?? 1000), (o) => this.ready(o));
    this.retryLine = new DelayLine(this.clock, Math.max(0, options.retryDelayMs ?? 1000), (o) => this.ready(o));
  }

  /** A receipt that goes out after --dlr-delay. */
  delay(o: Outgoing): void {
    this.receiptLine.push(o);
  }

  /** Keeps the receivers list up to date with a session's state. */
  sessionState(session: Session, state: SessionState): void {
    const list = this.receivers.get(session.systemId) ?? [];
    const i = list.indexOf(session);
    if (RECEIVING.has(state)) {
      if (i < 0) list.push(session);
      this.receivers.set(session.systemId, list);
      this.schedulePump();
    } else if (i >= 0) {
      list.splice(i, 1);
      if (list.length === 0) this.receivers.delete(session.systemId);
    }
  }

  /** A receiver of `target` is bound (any receiver when undefined). */
  hasReceiver(target: string | undefined): boolean {
    return target === undefined ? this.receivers.size > 0 : (this.receivers.get(target)?.length ?? 0) > 0;
  }

  /** Ready deliver_sm waiting for a receiver of `target` (for any receiver when undefined). */
  backlog(target: string | undefined): number {
    return target === undefined ? this.anyQueue.length : (this.queues.get(target)?.length ?? 0);
  }

  /** Receipts and MOs not yet answered for good, for summary(). */
  pending(): { receiptsPending: number; mosPending: number } {
    let receiptsPending = this.receiptLine.length;
    let mosPending = this.anyQueue.length;
    for (const q of this.queues.values()) for (const o of q.toArray()) o.kind === 'receipt' ? receiptsPending++ : mosPending++;
    for (const o of this.retryLine.peekItems()) o.kind === 'receipt' ? receiptsPending++ : mosPending++;
    return { receiptsPending, mosPending };
  }

  /** Stops the timers and tells the sendMo() callers of pending MOs that they will get no answer. */
  stop(): void {
    if (this.pumpRetry !== undefined) this.clock.clearTimeout(this.pumpRetry);
    this.pumpRetry = undefined;
    const dropped = [...this.receiptLine.stop(), ...this.retryLine.stop(), ...this.anyQueue.toArray()];
    for (const q of this.queues.values()) dropped.push(...q.toArray());
    for (const o of dropped) this.settle(o, new Error('SMSC simulator stopped before the MO was answered'));
  }

  // ---- deliver_sm out ---------------------------------------------------------------------------

  private queueFor(o: Outgoing): Fifo<Outgoing> {
    if (o.target === undefined) return this.anyQueue;
    let q = this.queues.get(o.target);
    if (q === undefined) {
      q = new Fifo();
      this.queues.set(o.target, q);
    }
    return q;
  }

  ready(o: Outgoing): void {
    if (this.host.stopped()) return this.settle(o, new Error('SMSC simulator stopped before the MO was answered'));
    this.queueFor(o).push(o);
    this.schedulePump();
  }

  /** Pumps after the current turn: a receipt with no delay follows its submit_sm_resp on the wire. */
  private schedulePump(): void {
    if (this.pumpScheduled || this.host.stopped()) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    let starved = false;
    for (const [systemId, q] of this.queues) {
      if (q.length === 0) continue;
      starved = this.drain(q, this.receivers.get(systemId) ?? [], systemId) || starved;
    }
    if (this.anyQueue.length > 0) {
      const all: Session[] = [];
      for (const list of this.receivers.values()) all.push(...list);
      starved = this.drain(this.anyQueue, all, '\u0000any') || starved;
    }
    // Receivers exist but none could take more (a full window is refilled by its responses; a
    // blocked socket by nothing we hear of): look again shortly.
    if (starved && this.pumpRetry === undefined && !this.host.stopped()) {
      this.pumpRetry = this.clock.setTimeout(() => {
        this.pumpRetry = undefined;
        this.pump();
      }, 50);
    }
  }

  /** Sends from `q` while a receiver can take it; true when receivers exist but none could. */
  private drain(q: Fifo<Outgoing>, list: Session[], rrKey: string): boolean {
    while (q.length > 0) {
      const s = this.nextReceiver(list, rrKey);
      if (s === undefined) return list.length > 0;
      this.send(s, q.shift()!);
    }
    return false;
  }

  private nextReceiver(list: Session[], rrKey: string): Session | undefined {
    const n = list.length;
    const start = this.rr.get(rrKey) ?? 0;
    for (let k = 0; k < n; k++) {
      const s = list[(start + k) % n]!;
      if (s.canSend && RECEIVING.has(s.state)) {
        this.rr.set(rrKey, (start + k + 1) % n);
        return s;
      }
    }
    return undefined;
  }

  private send(s: Session, o: Outgoing): void {
    o.attempts++;
    if (o.kind === 'receipt') this.stats.receiptsSent++;
    else this.stats.mosSent++;
    this.host.notify();
    s.request(o.pdu).then(
      (resp) => {
        const status = resp.command_status;
        if (status !== 0 && RETRY_STATUSES.has(status) && o.attempts < this.maxAttempts) {
          this.retryLine.push(o);
        } else {
          if (o.kind === 'receipt') {
            if (status === 0) {
              this.stats.receiptsAcked++;
              this.stats.receiptStats[o.stat] = (this.stats.receiptStats[o.stat] ?? 0) + 1;
            } else {
              this.stats.receiptsRefused++;
            }
          } else if (status === 0) this.stats.mosAcked++;
          else this.stats.mosRefused++;
          this.settle(o, status);
        }
        this.sent(s, o, status);
      },
      (err: Error) => {
        if (err instanceof PduError) {
          // It cannot be encoded (a data_sm's 65-character address does not fit a deliver_sm's 21).
          o.attempts = this.maxAttempts;
          if (o.kind === 'receipt') this.stats.receiptsExpired++;
          else this.stats.mosExpired++;
          this.settle(o, err);
        } else if (err instanceof ResponseTimeoutError || err instanceof SmppError) {
          // No answer, or a generic_nack: try again later, up to maxAttempts.
          if (o.attempts < this.maxAttempts) this.retryLine.push(o);
          else {
            if (o.kind === 'receipt') this.stats.receiptsExpired++;
            else this.stats.mosExpired++;
            this.settle(o, err);
          }
        } else {
          // The session closed (or is closing) before it could answer: another receiver takes it.
          o.attempts--;
          this.ready(o);
        }
        this.log.debug({ session: s.id, kind: o.kind, messageId: o.messageId, err: err.message }, 'deliver_sm failed');
        this.host.notify();
        this.schedulePump();
      },
    );
  }

  private get maxAttempts(): number {
    return this.host.options.maxAttempts ?? 5;
  }

  /** Tells a sendMo() caller how its MO ended: the final response status, or an error. */
  private settle(o: Outgoing, outcome: number | Error): void {
    const s = o.settle;
    if (s === undefined) return;
    o.settle = undefined;
    if (typeof outcome === 'number') s.resolve(outcome);
    else s.reject(outcome);
  }

  private sent(s: Session, o: Outgoing, status: number): void {
    if (o.kind === 'receipt') {
      this.log.debug({ session: s.id, messageId: o.messageId, stat: o.stat, status: statusKey(status) }, 'receipt delivered');
      this.host.record({ type: 'receipt', session: s.id, systemId: s.systemId, messageId: o.messageId, stat: o.stat, status });
    } else {
      this.host.record({
        type: 'mo',
        session: s.id,
        systemId: s.systemId,
        from: o.pdu.source_addr ?? '',
        to: o.pdu.destination_addr ?? '',
        text: o.text,
        status,
      });
    }
    this.schedulePump();
  }
}
