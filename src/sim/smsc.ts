// An SMSC simulator: what a carrier looks like from the gateway's side (or from the load tool's).
// It takes binds, answers submit_sm / data_sm / submit_multi with fresh carrier-style message ids,
// sends delivery receipts (esm_class 0x04, text and TLVs from src/dlr/receipt.ts) and MO messages
// to bound receivers, and misbehaves on request: throttling, error statuses, lost responses,
// dropped connections (after an answer, or in the middle of a window) and refused binds. It counts
// everything and emits one event per thing that happened, so tests can run it in-process;
// `smppgw sim smsc` (src/cli/sim.ts) runs it from the command line.
//
// Nothing a client sends can crash it: the session layer answers malformed PDUs, and every
// handler here either answers or throws an SmppError (the session answers ESME_RSYSERR for
// anything else).
//
// This file holds the simulator itself (listening, binds, sessions, events, the summary and the
// public API); its parts are in smsc-types.ts (options, events, counters), smsc-submit.ts (submits,
// queries, throttling, message ids, receipt creation), smsc-delivery.ts (the deliver_sm queues and
// delay lines) and smsc-mo.ts (MO generation).
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import { Status } from '../smpp/defs.js';
import { SmppServer } from '../smpp/server.js';
import type { BindPdu, ResponseInit, Session } from '../smpp/session.js';
import type { SessionState } from '../smpp/states.js';
import { Deliveries, type Outgoing } from './smsc-delivery.js';
import { MoSource } from './smsc-mo.js';
import { SubmitHandler } from './smsc-submit.js';
import { emptyStats, type Conn, type MoMessage, type SmscEvent, type SmscSimOptions, type SmscStats, type SmscSummary } from './smsc-types.js';
import { AddressRange, parseStatWeights, statusKey } from './util.js';

export { DEFAULT_ERROR_STATUSES } from './smsc-types.js';
export type { MoMessage, SmscEvent, SmscSimOptions, SmscStats, SmscSummary, SubmitOutcome } from './smsc-types.js';
export { messageKey } from './smsc-submit.js';

const ESME_RINVSYSID = Status.ESME_RINVSYSID;
const ESME_RINVPASWD = Status.ESME_RINVPASWD;
const ESME_RBINDFAIL = Status.ESME_RBINDFAIL;

export class SmscSimulator extends EventEmitter {
  readonly stats: SmscStats = emptyStats();
  /** Accepted submits per message key (see messageKey). */
  readonly keys = new Map<string, number>();

  private readonly server: SmppServer;
  private readonly conns = new Map<Session, Conn>();
  private readonly deliveries: Deliveries;
  private readonly submits: SubmitHandler;
  private readonly mo: MoSource;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly waiters = new Set<() => void>();
  private startedAt = 0;
  private stopped = false;
  /** Binds still to refuse under --bind-failures. */
  private bindFailuresLeft: number;

  constructor(private readonly options: SmscSimOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = (options.logger ?? silentLogger).child({ component: 'sim-smsc' });
    this.bindFailuresLeft = options.bindFailures ?? 0;
    if (!Number.isSafeInteger(this.bindFailuresLeft) || this.bindFailuresLeft < 0)
      throw new RangeError(`bindFailures ${options.bindFailures} is not a whole number ≥ 0`);
    if (options.bindFailRate !== undefined && !(options.bindFailRate >= 0 && options.bindFailRate <= 1))
      throw new RangeError(`bindFailRate ${options.bindFailRate} is outside 0..1`);
    const w = options.dlrStat ?? 'DELIVRD=100';
    const weights = typeof w === 'string' ? parseStatWeights(w) : w;
    const parts = {
      options,
      stats: this.stats,
      keys: this.keys,
      clock: this.clock,
      random: this.random,
      log: this.log,
      stopped: () => this.stopped,
      record: (ev: SmscEvent) => this.record(ev),
      notify: () => this.notify(),
      conn: (session: Session) => this.conn(session),
      onState: (session: Session, state: SessionState) => this.onState(session, state),
    };
    this.deliveries = new Deliveries(parts);
    // Options are checked in this order: the receipt states (above), --mo-from, then the submit settings.
    this.mo = new MoSource({ ...parts, deliveries: this.deliveries });
    this.submits = new SubmitHandler({ ...parts, deliveries: this.deliveries }, weights);
    this.server = new SmppServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      ...(options.tls ? { tls: options.tls } : {}),
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
        request: (pdu, session) => this.submits.onRequest(pdu, session),
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
    this.mo.start();
    this.log.info({ host: addr.address, port: addr.port }, 'SMSC simulator listening');
    return addr;
  }

  get port(): number {
    return this.server.address?.port ?? 0;
  }

  /** Stops: closes every session (unbind where possible), forgets pending receipts and MOs. */
  async stop(deadlineMs = 2_000): Promise<void> {
    this.stopped = true;
    this.mo.stop();
    this.deliveries.stop();
    // A session holding unanswered submits cannot drain: an orderly close would wait the deadline out.
    for (const c of this.conns.values()) if (c.held.length > 0 || c.disconnecting) c.session.destroy('simulator stopping');
    await this.server.close(deadlineMs);
  }

  /** Counters plus what is bound and pending now. */
  summary(): SmscSummary {
    let activeBinds = 0;
    for (const c of this.conns.values()) if (c.session.isBound) activeBinds++;
    const { receiptsPending, mosPending } = this.deliveries.pending();
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
    if (this.stopped) status = ESME_RBINDFAIL;
    else if (status === 0 && this.failBind()) {
      status = ESME_RBINDFAIL;
      this.stats.bindsFailed++;
    }
    if (status === 0) this.stats.binds++;
    else this.stats.bindsRefused++;
    this.log.info(
      { session: session.id, systemId: pdu.system_id, command: pdu.command, status: statusKey(status) },
      status === 0 ? 'bind accepted' : 'bind refused',
    );
    this.record({ type: 'bind', session: session.id, systemId: pdu.system_id, command: pdu.command, status });
    return status === 0 ? { system_id: this.options.smscId ?? 'SIMSMSC' } : { command_status: status };
  }

  /** --bind-failures (the first N binds that would be accepted), then --bind-fail-rate. */
  private failBind(): boolean {
    if (this.bindFailuresLeft > 0) {
      this.bindFailuresLeft--;
      return true;
    }
    const rate = this.options.bindFailRate ?? 0;
    return rate > 0 && this.random() < rate;
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
    this.deliveries.sessionState(session, state);
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
      o = this.mo.newMo(mo.from, new AddressRange(mo.from).tonNpi, mo.to, mo.text, mo.systemId, mo.tlvs);
      o.settle = { resolve, reject };
    });
    // A caller that does not wait for the outcome gets no unhandled rejection.
    p.catch(() => undefined);
    if (o !== undefined) this.deliveries.ready(o);
    return p;
  }
}
