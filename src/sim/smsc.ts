// An SMSC simulator: what a carrier looks like from the gateway's side (or from the load tool's).
// It takes binds, answers submit_sm / data_sm / submit_multi with fresh carrier-style message ids,
// sends delivery receipts (esm_class 0x04, text and TLVs from src/dlr/receipt.ts) and MO messages
// to bound receivers, and misbehaves on request: throttling, error statuses, lost responses and
// dropped connections. It counts everything and emits one event per thing that happened, so tests
// can run it in-process; `smppgw sim smsc` (src/cli/sim.ts) runs it from the command line.
//
// Nothing a client sends can crash it: the session layer answers malformed PDUs, and every
// handler here either answers or throws an SmppError (the session answers ESME_RSYSERR for
// anything else).
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { MessageState, receiptBody } from '../dlr/receipt.js';
import { PduError, ResponseTimeoutError, SmppError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { ESME_RINVCMDID, ESME_RTHROTTLED, Status, TLVS } from '../smpp/defs.js';
import type { Pdu, PduInput, PduOf, Tlv } from '../smpp/pdu.js';
import { SmppServer, type SessionDefaults } from '../smpp/server.js';
import type { BindPdu, ResponseInit, Session } from '../smpp/session.js';
import type { SessionState } from '../smpp/states.js';
import { Fifo } from '../smpp/fifo.js';
import { AddressRange, decodeText, encodeText, parseStatWeights, pickWeighted, smppTime, statusKey, type StatWeight } from './util.js';

const ESME_RINVSYSID = Status.ESME_RINVSYSID!;
const ESME_RINVPASWD = Status.ESME_RINVPASWD!;
const ESME_RQUERYFAIL = Status.ESME_RQUERYFAIL!;
const ESME_RCANCELFAIL = Status.ESME_RCANCELFAIL!;
const ESME_RREPLACEFAIL = Status.ESME_RREPLACEFAIL!;

/**
 * The statuses --error-rate draws from when no --error-status is given: temporary ones a client
 * should retry (0x14 ESME_RMSGQFUL, 0x58 ESME_RTHROTTLED, 0x08 ESME_RSYSERR) and permanent ones it
 * should not (0x0B ESME_RINVDSTADR, 0x45 ESME_RSUBMITFAIL).
 */
export const DEFAULT_ERROR_STATUSES: readonly number[] = [0x14, 0x58, 0x08, 0x0b, 0x45];

/**
 * Statuses of a deliver_sm_resp after which the simulator tries the deliver_sm again later:
 * ESME_RSYSERR, ESME_RMSGQFUL, ESME_RTHROTTLED, and ESME_RINVBNDSTS (an ESME that takes a
 * deliver_sm arriving right behind its bind_resp for one sent before the bind).
 */
const RETRY_STATUSES = new Set([0x04, 0x08, 0x14, 0x58]);

export interface SmscSimOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port (read it from start()'s result or `port`). */
  port?: number;
  /** When set, binds must give this system_id (else ESME_RINVSYSID); any system_id otherwise. */
  systemId?: string;
  /** When set, binds must give this password (else ESME_RINVPASWD). */
  password?: string;
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
  /** Fraction 0..1 of submits that get no response at all (default 0). */
  dropRate?: number;
  /** Close the connection after every N submits on a session (default 0: never). */
  disconnectAfter?: number;
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
  random?: () => number;
  clock?: Clock;
  logger?: Logger;
}

export type SubmitOutcome = 'accepted' | 'throttled' | 'error' | 'dropped';

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
      /** The status answered (absent when dropped). */
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
  /** Every status answered to a submit, by hex (`0x00` included). */
  statuses: Record<string, number>;
  /** Distinct message keys among accepted submits, and accepted submits whose key was seen before. */
  uniqueKeys: number;
  duplicates: number;
  /** Connections dropped by --disconnect-after. */
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

interface Conn {
  session: Session;
  submits: number;
  disconnecting: boolean;
  /** Releases the submits held without an answer (dropped). */
  held: Array<() => void>;
}

interface Outgoing {
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

interface Tracked {
  state: number;
  /** Wall-clock time the final state is reached. */
  doneAt: number;
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

/** The duplicate-detection key of a submit: source, destination(s) and message text (raw octets). */
export function messageKey(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>): string {
  const dest = pdu.command === 'submit_multi' ? pdu.dest_address.map((d) => d.destination_addr).join(',') : pdu.destination_addr;
  const body = 'short_message' in pdu && pdu.short_message.length > 0 ? pdu.short_message : pdu.tlvs?.find((t) => t.tag === PAYLOAD_TAG)?.value;
  return `${pdu.source_addr}\u0000${dest}\u0000${body ? body.toString('latin1') : ''}`;
}

const PAYLOAD_TAG = TLVS.get('message_payload')!.tag;
const RECEIVING: ReadonlySet<SessionState> = new Set(['bound_rx', 'bound_trx']);

export class SmscSimulator extends EventEmitter {
  readonly stats: SmscStats = {
    binds: 0,
    bindsRefused: 0,
    submits: 0,
    submitsOk: 0,
    submitsThrottled: 0,
    submitsFailed: 0,
    submitsDropped: 0,
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
  /** Accepted submits per message key (see messageKey). */
  readonly keys = new Map<string, number>();

  private readonly server: SmppServer;
  private readonly conns = new Map<Session, Conn>();
  /** Bound rx/trx sessions by system_id. */
  private readonly receivers = new Map<string, Session[]>();
  private readonly rr = new Map<string, number>();
  /** Ready deliver_sm by the system_id they go to; MOs for any receiver in `anyQueue`. */
  private readonly queues = new Map<string, Fifo<Outgoing>>();
  private readonly anyQueue = new Fifo<Outgoing>();
  private readonly tracked = new Map<string, Tracked>();
  private readonly receiptLine: DelayLine<Outgoing>;
  private readonly retryLine: DelayLine<Outgoing>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly weights: StatWeight[];
  private readonly errorStatuses: readonly number[];
  private readonly moFrom: AddressRange;
  private readonly moTo: string[];
  private readonly moText: string[];
  private readonly waiters = new Set<() => void>();
  private nextId: number;
  private throttleRing: Float64Array | undefined;
  private throttleHead = 0;
  private throttleCount = 0;
  private pumpScheduled = false;
  private pumpRetry: TimerHandle | undefined;
  private moTimer: TimerHandle | undefined;
  private moLast = 0;
  private moCredit = 0;
  /** MOs made by --mo-rate (counted against --mo-count; sendMo() ones are not). */
  private moGenerated = 0;
  private startedAt = 0;
  private stopped = false;

  constructor(private readonly options: SmscSimOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = (options.logger ?? silentLogger).child({ component: 'sim-smsc' });
    const w = options.dlrStat ?? 'DELIVRD=100';
    this.weights = typeof w === 'string' ? parseStatWeights(w) : w;
    this.errorStatuses = options.errorStatuses && options.errorStatuses.length > 0 ? options.errorStatuses : DEFAULT_ERROR_STATUSES;
    this.moFrom = new AddressRange(options.moFrom ?? '4917000000..4917099999');
    this.moTo = options.moTo && options.moTo.length > 0 ? options.moTo : ['12345'];
    this.moText = options.moText && options.moText.length > 0 ? options.moText : ['VOTE A'];
    this.nextId = options.idStart ?? Date.now() * 1000;
    if (!Number.isSafeInteger(this.nextId) || this.nextId < 0) throw new RangeError(`idStart ${options.idStart} is not a safe non-negative integer`);
    for (const [name, v] of [['errorRate', options.errorRate], ['dropRate', options.dropRate]] as const) {
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`${name} ${v} is outside 0..1`);
    }
    if ((options.throttle ?? 0) > 0) this.throttleRing = new Float64Array(Math.ceil(options.throttle!));
    this.receiptLine = new DelayLine(this.clock, Math.max(0, options.dlrDelayMs ?? 1000), (o) => this.ready(o));
    this.retryLine = new DelayLine(this.clock, Math.max(0, options.retryDelayMs ?? 1000), (o) => this.ready(o));
    this.server = new SmppServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      logger: this.log,
      session: {
        window: options.window ?? 10,
        responseTimeoutMs: options.dlrTimeoutMs ?? 10_000,
        // Dropped submits hold a slot each until the connection closes.
        inboundWindow: 100_000,
        ...options.session,
        clock: this.clock,
      },
      handlers: {
        bind: (pdu, session) => this.onBind(pdu, session),
        request: (pdu, session) => this.onRequest(pdu, session),
        state: (session, state) => this.onState(session, state),
        close: (session, reason) => this.onClose(session, reason),
      },
    });
  }

  /** Starts listening; resolves with the address. */
  async start(): Promise<AddressInfo> {
    const addr = await this.server.listen();
    this.startedAt = this.clock.now();
    this.stopped = false;
    if ((this.options.moRate ?? 0) > 0) {
      this.moLast = this.clock.now();
      this.moTimer = this.clock.setTimeout(() => this.moTick(), this.moInterval());
    }
    this.log.info({ host: addr.address, port: addr.port }, 'SMSC simulator listening');
    return addr;
  }

  get port(): number {
    return this.server.address?.port ?? 0;
  }

  /** Stops: closes every session (unbind where possible), forgets pending receipts and MOs. */
  async stop(deadlineMs = 2_000): Promise<void> {
    this.stopped = true;
    for (const t of [this.moTimer, this.pumpRetry]) if (t !== undefined) this.clock.clearTimeout(t);
    this.moTimer = this.pumpRetry = undefined;
    const dropped = [...this.receiptLine.stop(), ...this.retryLine.stop(), ...this.anyQueue.toArray()];
    for (const q of this.queues.values()) dropped.push(...q.toArray());
    for (const o of dropped) this.settle(o, new Error('SMSC simulator stopped before the MO was answered'));
    // A session holding unanswered submits cannot drain: an orderly close would wait the deadline out.
    for (const c of this.conns.values()) if (c.held.length > 0 || c.disconnecting) c.session.destroy('simulator stopping');
    await this.server.close(deadlineMs);
  }

  /** Counters plus what is bound and pending now. */
  summary(): SmscSummary {
    let activeBinds = 0;
    for (const c of this.conns.values()) if (c.session.isBound) activeBinds++;
    let receiptsPending = this.receiptLine.length;
    let mosPending = this.anyQueue.length;
    for (const q of this.queues.values()) for (const o of q.toArray()) (o.kind === 'receipt' ? receiptsPending++ : mosPending++);
    for (const o of this.retryLine.peekItems()) (o.kind === 'receipt' ? receiptsPending++ : mosPending++);
    return {
      ...this.stats,
      statuses: { ...this.stats.statuses },
      receiptStats: { ...this.stats.receiptStats },
      activeBinds,
      receiptsPending,
      mosPending,
      uptimeMs: Math.round(this.clock.now() - this.startedAt),
    };
  }

  /** Resolves once `condition()` holds (checked after every event); rejects after `timeoutMs` of real time. */
  until(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`SMSC simulator: ${what} not reached within ${timeoutMs} ms: ${JSON.stringify(this.summary())}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  // ---- events -----------------------------------------------------------------------------------

  private record(ev: SmscEvent): void {
    try {
      this.emit(ev.type, ev);
      this.emit('event', ev);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'event listener threw');
    }
    this.notify();
  }

  /** Re-checks the until() conditions. */
  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  // ---- binds ------------------------------------------------------------------------------------

  private onBind(pdu: BindPdu, session: Session): ResponseInit {
    let status = 0;
    if (this.options.systemId !== undefined && pdu.system_id !== this.options.systemId) status = ESME_RINVSYSID;
    else if (this.options.password !== undefined && pdu.password !== this.options.password) status = ESME_RINVPASWD;
    if (this.stopped) status = Status.ESME_RBINDFAIL!;
    if (status === 0) this.stats.binds++;
    else this.stats.bindsRefused++;
    this.log.info({ session: session.id, systemId: pdu.system_id, command: pdu.command, status: statusKey(status) }, status === 0 ? 'bind accepted' : 'bind refused');
    this.record({ type: 'bind', session: session.id, systemId: pdu.system_id, command: pdu.command, status });
    return status === 0 ? { system_id: this.options.smscId ?? 'SIMSMSC' } : { command_status: status };
  }

  private conn(session: Session): Conn {
    let c = this.conns.get(session);
    if (c === undefined) {
      c = { session, submits: 0, disconnecting: false, held: [] };
      this.conns.set(session, c);
    }
    return c;
  }

  private onState(session: Session, state: SessionState): void {
    if (state === 'binding' || state === 'open') return;
    this.conn(session);
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
    // until() conditions on activeBinds: a bind is up only now, after its `bind` event.
    this.notify();
  }

  private onClose(session: Session, reason: string): void {
    const c = this.conns.get(session);
    this.onState(session, 'closed');
    this.conns.delete(session);
    if (c !== undefined) for (const release of c.held.splice(0)) release();
    this.log.info({ session: session.id, systemId: session.systemId, reason }, 'session closed');
    this.record({ type: 'close', session: session.id, systemId: session.systemId, reason });
  }

  // ---- requests ---------------------------------------------------------------------------------

  private onRequest(pdu: Pdu, session: Session): ResponseInit | Promise<ResponseInit> {
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
    const c = this.conn(session);
    c.submits++;
    this.stats.submits++;
    const key = messageKey(pdu);
    const base = { session: session.id, systemId: session.systemId, command: pdu.command, key };
    if (c.disconnecting) return this.drop(c, base);
    const every = this.options.disconnectAfter ?? 0;
    if (every > 0 && c.submits % every === 0) this.disconnect(c);
    if (!this.admit()) return this.answer(base, 'throttled', ESME_RTHROTTLED);
    if ((this.options.dropRate ?? 0) > 0 && this.random() < this.options.dropRate!) return this.drop(c, base);
    if ((this.options.errorRate ?? 0) > 0 && this.random() < this.options.errorRate!) {
      const status = this.errorStatuses[Math.floor(this.random() * this.errorStatuses.length)] ?? this.errorStatuses[0]!;
      return this.answer(base, 'error', status);
    }
    const messageId = this.newId();
    const seen = this.keys.get(key) ?? 0;
    this.keys.set(key, seen + 1);
    if (seen === 0) this.stats.uniqueKeys++;
    else this.stats.duplicates++;
    this.accept(pdu, session.systemId, messageId);
    this.count(0);
    this.stats.submitsOk++;
    this.log.debug({ ...base, messageId }, 'submit accepted');
    this.record({ type: 'submit', ...base, outcome: 'accepted', status: 0, messageId, duplicate: seen > 0 });
    return pdu.command === 'submit_multi' ? { message_id: messageId, unsuccess_sme: [] } : { message_id: messageId };
  }

  private answer(base: { session: string; systemId: string; command: string; key: string }, outcome: 'throttled' | 'error', status: number): ResponseInit {
    if (outcome === 'throttled') this.stats.submitsThrottled++;
    else this.stats.submitsFailed++;
    this.count(status);
    this.log.debug({ ...base, status: statusKey(status) }, `submit ${outcome}`);
    this.record({ type: 'submit', ...base, outcome, status, duplicate: false });
    return { command_status: status };
  }

  /** No answer: the session sees the request handled only when the connection closes. */
  private drop(c: Conn, base: { session: string; systemId: string; command: string; key: string }): Promise<ResponseInit> {
    this.stats.submitsDropped++;
    this.log.debug(base, 'submit dropped (no response)');
    this.record({ type: 'submit', ...base, outcome: 'dropped', duplicate: false });
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
    this.onState(s, 'unbinding');
    this.log.info({ session: s.id, systemId: s.systemId, submits: c.submits }, 'dropping the connection (--disconnect-after)');
    this.record({ type: 'disconnect', session: s.id, systemId: s.systemId, submits: c.submits });
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
    return { message_id: pdu.message_id, final_date: done ? smppTime(t.doneAt) : '', message_state: done ? t.state : MessageState.ENROUTE, error_code: 0 };
  }

  /** An accepted submit: remember it for query_sm and create its receipts. */
  private accept(pdu: PduOf<'submit_sm'> | PduOf<'data_sm'> | PduOf<'submit_multi'>, systemId: string, messageId: string): void {
    const draw = pickWeighted(this.weights, this.random);
    const delay = Math.max(0, this.options.dlrDelayMs ?? 1000);
    const now = Date.now();
    this.tracked.set(messageId, { state: draw.state, doneAt: now + delay });
    const max = this.options.maxTracked ?? 1_000_000;
    if (this.tracked.size > max) {
      const oldest = this.tracked.keys().next();
      if (!oldest.done) this.tracked.delete(oldest.value);
    }
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
      if (delay === 0) this.ready(out);
      else this.receiptLine.push(out);
    }
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

  private ready(o: Outgoing): void {
    if (this.stopped) return this.settle(o, new Error('SMSC simulator stopped before the MO was answered'));
    this.queueFor(o).push(o);
    this.schedulePump();
  }

  /** Pumps after the current turn: a receipt with no delay follows its submit_sm_resp on the wire. */
  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
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
    if (starved && this.pumpRetry === undefined && !this.stopped) {
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
    this.notify();
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
        this.notify();
        this.schedulePump();
      },
    );
  }

  private get maxAttempts(): number {
    return this.options.maxAttempts ?? 5;
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
      this.record({ type: 'receipt', session: s.id, systemId: s.systemId, messageId: o.messageId, stat: o.stat, status });
    } else {
      this.record({ type: 'mo', session: s.id, systemId: s.systemId, from: o.pdu.source_addr ?? '', to: o.pdu.destination_addr ?? '', text: o.text, status });
    }
    this.schedulePump();
  }

  // ---- MO ---------------------------------------------------------------------------------------

  private moInterval(): number {
    return Math.max(10, Math.min(1000, 1000 / (this.options.moRate ?? 1)));
  }

  private moTick(): void {
    this.moTimer = undefined;
    if (this.stopped) return;
    const rate = this.options.moRate ?? 0;
    const now = this.clock.now();
    this.moCredit += (rate * (now - this.moLast)) / 1000;
    this.moLast = now;
    const target = this.options.moSystemId;
    const hasReceiver = target === undefined ? this.receivers.size > 0 : (this.receivers.get(target)?.length ?? 0) > 0;
    const backlog = target === undefined ? this.anyQueue.length : (this.queues.get(target)?.length ?? 0);
    // MOs are made only while someone can take them, and at most one second's worth at a time.
    if (!hasReceiver || backlog > 10_000) this.moCredit = 0;
    this.moCredit = Math.min(this.moCredit, Math.max(1, rate));
    const left = this.options.moCount === undefined ? Infinity : this.options.moCount - this.moGenerated;
    const n = Math.max(0, Math.min(Math.floor(this.moCredit), left));
    this.moCredit -= n;
    for (let i = 0; i < n; i++) {
      this.moGenerated++;
      const from = this.moFrom.random(this.random);
      const to = this.moTo[Math.floor(this.random() * this.moTo.length)] ?? this.moTo[0]!;
      const text = this.moText[Math.floor(this.random() * this.moText.length)] ?? this.moText[0]!;
      this.ready(this.newMo(from, this.moFrom.tonNpi, to, text, target));
    }
    if (left > n) this.moTimer = this.clock.setTimeout(() => this.moTick(), this.moInterval());
  }

  /**
   * Sends one MO deliver_sm (esm_class 0) to a bound receiver of `mo.systemId` (any receiver when
   * not given), or keeps it until one binds, as receipts are kept. It is counted and retried like
   * the --mo-rate MOs (mosCreated, mosSent, …, the `mo` event), but not against --mo-count.
   *
   * Resolves with the status of the final deliver_sm_resp: 0 when accepted, another status when
   * refused, or a retried status (0x04, 0x08, 0x14, 0x58) still answered at the last of
   * maxAttempts. Rejects when no answer came within maxAttempts tries, when the deliver_sm cannot
   * be encoded (an address too long), or when the simulator stops first.
   */
  sendMo(mo: MoMessage): Promise<number> {
    let o: Outgoing | undefined;
    // A bad address throws in here, which rejects.
    const p = new Promise<number>((resolve, reject) => {
      if (this.stopped) throw new Error('SMSC simulator is stopped');
      o = this.newMo(mo.from, new AddressRange(mo.from).tonNpi, mo.to, mo.text, mo.systemId, mo.tlvs);
      o.settle = { resolve, reject };
    });
    // A caller that does not wait for the outcome gets no unhandled rejection.
    p.catch(() => undefined);
    if (o !== undefined) this.ready(o);
    return p;
  }

  private newMo(from: string, { ton, npi }: { ton: number; npi: number }, to: string, text: string, target: string | undefined, tlvs?: Tlv[]): Outgoing {
    const toRange = new AddressRange(to).tonNpi;
    this.stats.mosCreated++;
    return {
      kind: 'mo',
      target,
      messageId: '',
      stat: '',
      text,
      attempts: 0,
      pdu: {
        command: 'deliver_sm',
        source_addr_ton: ton,
        source_addr_npi: npi,
        source_addr: from,
        dest_addr_ton: toRange.ton,
        dest_addr_npi: toRange.npi,
        destination_addr: to,
        esm_class: 0,
        ...encodeText(text),
        ...(tlvs !== undefined && tlvs.length > 0 ? { tlvs } : {}),
      },
    };
  }
}

/** The receipt's text: field takes printable ASCII only. */
function printable(s: string): string {
  return s.slice(0, 20).replace(/[^\x20-\x7e]/g, '?');
}

