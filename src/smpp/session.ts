// One SMPP session over one socket, either side of the link: the state machine and an orderly
// close. Nothing here knows about accounts or routes: callers supply handlers (a handler that throws
// never reaches the process: the peer gets ESME_RSYSERR). The state changes only in apply(), by the
// table in states.ts; the parts report events to it: Reader (the peer's bytes), Outbound (our
// requests, responses, timeouts), Responder (the peer's requests, its bind), LinkTimers.
import type { Socket } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import { DEFAULT_MAX_PDU_SIZE, encodeAs } from './codec.js';
import { ESME_RINVBNDSTS, MAX_SEQUENCE, MIN_SEQUENCE } from './defs.js';
import { BindError, SessionClosedError, SessionStateError } from './errors.js';
import { IdleWatch } from './idle.js';
import { LinkTimers } from './link-timers.js';
import { SESSION_DEFAULTS, type LateResponse, type SessionOptions } from './options.js';
import { Outbound } from './outbound.js';
import type { Bodies, CommandName, Pdu, PduInput, PduOf, RequestName, ResponseOf } from './pdu.js';
import { Reader } from './reader.js';
import { Responder, type SessionHandlers } from './responder.js';
import { BIND_STATE, isBound, maySend, transition, type BindCommand, type SessionEvent, type SessionRole, type SessionState } from './states.js';
import { CoalescingWriter } from './writer.js';

export type { BindPdu, ResponseInit, SessionHandlers } from './responder.js';
export type { LateResponse, SessionOptions } from './options.js';

let sessionCounter = 0;

export class Session {
  readonly id: string;
  readonly role: SessionRole;
  readonly log: Logger;
  /** The system_id the peer bound with (SMSC side) or the one we bound with (ESME side). */
  systemId = '';
  /** Free for the owner (the gateway keeps its account here). */
  context: unknown;

  private stateValue: SessionState = 'open';
  /** ESME side: the system_id of the bind in flight. */
  private bindingSystemId = '';
  /** A bind succeeded at the peer and no unbind has been exchanged: close() must unbind. */
  private peerBound = false;
  /** An enquire_link sent on an idle link awaits its answer. */
  private idleEnquiry = false;
  private reasonValue = '';
  private closing: Promise<void> | undefined;
  private endTimer: TimerHandle | undefined;
  private readonly closed: Promise<void>;
  private markClosed!: () => void;
  private readonly writer: CoalescingWriter;
  private readonly outbound: Outbound;
  private readonly reader: Reader;
  private readonly responder: Responder;
  private readonly timers: LinkTimers;
  private readonly idle: IdleWatch;
  private readonly handlers: SessionHandlers;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(
    readonly socket: Socket,
    options: SessionOptions,
  ) {
    this.role = options.role;
    // Named by the peer, as an operator reads it: a session with an ESME is `esme-N`.
    this.id = options.id ?? `${options.role === 'smsc' ? 'esme' : 'smsc'}-${++sessionCounter}`;
    this.handlers = options.handlers ?? {};
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.responseTimeoutMs ?? SESSION_DEFAULTS.responseTimeoutMs;
    const first = options.firstSequence ?? MIN_SEQUENCE;
    if (!Number.isInteger(first) || first < MIN_SEQUENCE || first > MAX_SEQUENCE) throw new RangeError(`firstSequence ${first} is outside 1..0x7FFFFFFF`);
    this.log = (options.logger ?? silentLogger).child({ session: this.id });
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    const report = (event: SessionEvent): void => void this.apply(event);
    const settled = (): void => this.idle.check();
    this.writer = new CoalescingWriter(socket, options.writeHighWaterMark ?? SESSION_DEFAULTS.writeHighWaterMark, (blocked) => {
      if (!blocked) this.outbound.pump();
    });
    this.outbound = new Outbound(this.writer, this.clock, this.log, options.window ?? SESSION_DEFAULTS.window, first, { report, settled });
    this.responder = new Responder(this, this.handlers, this.writer, this.log, options.inboundWindow ?? SESSION_DEFAULTS.inboundWindow, { report, settled });
    this.reader = new Reader(options.maxPduSize ?? DEFAULT_MAX_PDU_SIZE, this.log, this.outbound, this.responder, {
      role: this.role,
      state: () => this.stateValue,
      unbind: (pdu) => this.onUnbind(pdu),
      report,
    });
    this.timers = new LinkTimers(this.clock, options.enquireLinkMs ?? SESSION_DEFAULTS.enquireLinkMs, report);
    this.idle = new IdleWatch(this.clock, () => this.outbound.size === 0 && this.responder.active === 0);
    socket.setNoDelay(true);
    // The peer's FIN must not end our side at once: the answers to its last requests still go out.
    socket.allowHalfOpen = true;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.reasonValue ||= `socket error: ${err.message}`;
      this.log.warn({ err: err.message }, 'socket error');
    });
    socket.on('close', () => this.apply({ type: 'socket_closed', reason: 'connection closed' }));
    socket.on('end', () => this.apply({ type: 'peer_ended', reason: 'peer closed the connection' }));
    // Only the side that takes binds times them out.
    this.timers.start(this.role === 'smsc' ? (options.bindTimeoutMs ?? SESSION_DEFAULTS.bindTimeoutMs) : 0);
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get isBound(): boolean {
    return isBound(this.stateValue);
  }

  /** Our requests awaiting a response, counted against the window. */
  get inFlight(): number {
    return this.outbound.inWindow;
  }

  /** Every request awaiting a response, in the window or not (enquire_link, bind, unbind). */
  get outstanding(): number {
    return this.outbound.size;
  }

  /** Outstanding requests allowed (the configured window). */
  get windowSize(): number {
    return this.outbound.window;
  }

  /** Sends enquire_link now; resolves with the answer. Unanswered, the session is dropped as dead. */
  enquireLink(): Promise<Pdu> {
    return this.send({ command: 'enquire_link' }, true);
  }

  /** The response timeout requests are sent with. */
  get responseTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** True when a request sent now would go out without waiting. */
  get canSend(): boolean {
    return this.outbound.hasRoom && this.stateValue !== 'closed' && this.closing === undefined;
  }

  /** Bytes written but not yet handed to the kernel (ours and the socket's buffer). */
  get bufferedBytes(): number {
    return this.writer.pendingBytes;
  }

  /** Why the session closed or is closing ('' while it is up). */
  get closeReason(): string {
    return this.reasonValue;
  }

  /** Resolves once the socket has closed. */
  whenClosed(): Promise<void> {
    return this.closed;
  }

  /**
   * Sends a request and resolves with its response, whatever its command_status. Waits while the
   * window is full or the socket is backed up. Rejects on generic_nack (SmppError), on timeout
   * (ResponseTimeoutError), and when the session closes (SessionClosedError).
   */
  async request<C extends RequestName>(pdu: Omit<PduInput<C>, 'sequence_number'>, late?: LateResponse): Promise<PduOf<ResponseOf<C>>> {
    this.checkSendable(pdu.command);
    // Encoded before waiting: a PDU that cannot be encoded fails now, without taking a window slot.
    const bytes = encodeAs(pdu.command, MIN_SEQUENCE, 0, pdu);
    if (!this.canSend || this.outbound.waiting > 0) {
      await this.outbound.waitTurn();
      try {
        this.checkSendable(pdu.command);
      } catch (err) {
        this.outbound.pump(); // the slot we were given goes to the next in line
        throw err;
      }
    }
    const sent = new Promise<Pdu>((resolve, reject) => this.outbound.send(bytes, pdu.command, false, this.timeoutMs, resolve, reject, late));
    return sent as Promise<PduOf<ResponseOf<C>>>;
  }

  /**
   * Sends an already encoded request now, for a caller that checked `canSend` (the bytes' sequence
   * number is overwritten). `onResponse` / `onError` are called synchronously when the response,
   * the timeout or the close arrives: no promise hops, so whatever a response starts is done
   * before the next PDU from the socket is read (a carrier's receipt right behind its
   * submit_sm_resp finds the response recorded). The callbacks must not throw.
   */
  requestEncoded(command: RequestName, bytes: Buffer, onResponse: (resp: Pdu) => void, onError: (err: Error) => void, late?: LateResponse): void {
    this.checkSendable(command);
    if (!this.canSend) throw new SessionStateError(`${command} sent while the window is full or the socket is backed up`);
    this.outbound.send(bytes, command, false, this.timeoutMs, onResponse, onError, late);
  }

  /** ESME side: binds with the given command; rejects with BindError on an error status. */
  async bind(command: BindCommand, body: Partial<Bodies[BindCommand]>): Promise<PduOf<`${BindCommand}_resp`>> {
    this.checkSendable(command);
    this.bindingSystemId = body.system_id ?? '';
    this.apply({ type: 'bind_sent' });
    let resp: PduOf<`${BindCommand}_resp`>;
    try {
      resp = (await this.send({ ...body, command }, true)) as PduOf<`${BindCommand}_resp`>;
    } catch (err) {
      this.apply({ type: 'bind_refused' });
      throw err;
    }
    // The state already changed when the response was read (Outbound reported it).
    if (resp.command_status !== 0) throw new BindError(resp.command_status, command);
    if (this.stateValue !== BIND_STATE[command]) throw new SessionClosedError(this.reasonValue || 'closed while binding');
    return resp;
  }

  /**
   * Orderly close: refuse new work, wait for our in-flight requests and the peer's requests being
   * handled (up to `deadlineMs`), unbind if bound, then end the connection. Whatever is still
   * pending at the deadline is rejected with SessionClosedError. Resolves once the socket closed.
   */
  close(reason = 'closed by us', deadlineMs = 5_000): Promise<void> {
    if (this.closing) return this.closing;
    this.reasonValue ||= reason;
    this.closing = (async () => {
      if (this.apply({ type: 'close_requested' })) await this.shutdown(deadlineMs);
      await this.closed;
    })();
    return this.closing;
  }

  /** Closes the connection at once; everything pending is rejected before this returns. */
  destroy(reason = 'destroyed'): void {
    this.apply({ type: 'destroyed', reason });
  }

  // ---- the state machine --------------------------------------------------------------------------

  /**
   * The one place the state changes: an event from the session's parts (or its own methods) is
   * looked up in the transition table; false when the table refuses it in the current state.
   * Each case runs what the event means and enters the new state where its handlers expect it.
   */
  private apply(event: SessionEvent): boolean {
    const to = transition(this.stateValue, event);
    if (to === undefined) return false;
    if (event.type !== 'bind_accepted' && event.reason !== undefined) this.reasonValue ||= event.reason;
    switch (event.type) {
      case 'bind_sent':
      case 'bind_received':
      case 'bind_refused':
        this.enter(to);
        break;
      case 'bind_accepted':
        this.peerBound = true;
        this.timers.bound();
        if (to !== this.stateValue) {
          this.systemId = event.systemId ?? this.bindingSystemId;
          this.enter(to);
        }
        break;
      case 'unbind_received':
        this.log.info('peer unbound');
        this.peerBound = false;
        this.enter(to);
        // Nothing we sent can be answered any more: the peer ends the session with its unbind.
        this.outbound.rejectAll(new SessionClosedError('peer unbound'));
        break;
      case 'close_requested':
        this.enter(to);
        this.outbound.rejectWaiters(new SessionClosedError(this.reasonValue));
        break;
      case 'peer_ended':
        // It sends nothing more, so our requests can never be answered (nor an unbind), but the
        // requests it sent before are still handled and answered; then we end our side too.
        this.peerBound = false;
        this.outbound.rejectAll(new SessionClosedError(this.reasonValue));
        this.idle.check();
        void this.close(this.reasonValue, this.timeoutMs);
        break;
      case 'framing_lost':
        this.outbound.rejectAll(new SessionClosedError(this.reasonValue));
        // The generic_nack and everything queued before it go out, then the connection ends.
        this.socket.resume();
        this.endSocket();
        break;
      case 'link_idle':
        if (this.closing === undefined && !this.idleEnquiry) {
          this.idleEnquiry = true;
          const done = (): void => void (this.idleEnquiry = false);
          this.send({ command: 'enquire_link' }, true).then(done, done);
        }
        break;
      case 'response_timeout':
        this.outbound.pump();
        this.idle.check();
        break;
      case 'enquire_link_timeout':
        this.log.warn({ ms: this.timeoutMs }, 'peer did not answer enquire_link; closing');
        this.dropNow();
        break;
      case 'bind_timeout':
        this.log.warn('no bind within the bind timeout; closing');
        this.dropNow();
        break;
      case 'destroyed':
        this.dropNow();
        break;
      case 'socket_closed':
        this.teardown();
        break;
    }
    return true;
  }

  private enter(state: SessionState): void {
    if (this.stateValue === state || this.stateValue === 'closed') return;
    this.stateValue = state;
    this.log.debug({ state }, 'session state');
    this.callHandler('state', () => this.handlers.state?.(this, state));
  }

  /** Ends the connection at once (what is queued is written first) and the session with it. */
  private dropNow(): void {
    this.writer.flush();
    this.socket.destroy();
    this.teardown();
  }

  /** The session is over (socket closed or destroyed): reject everything, stop every timer. */
  private teardown(): void {
    if (this.stateValue === 'closed') return;
    const reason = (this.reasonValue ||= 'connection closed');
    this.enter('closed');
    this.timers.stop();
    if (this.endTimer !== undefined) this.clock.clearTimeout(this.endTimer);
    this.endTimer = undefined;
    const err = new SessionClosedError(reason);
    this.outbound.rejectPending(err);
    this.outbound.rejectWaiters(err);
    this.idle.release();
    this.log.info({ reason }, 'session closed');
    this.callHandler('close', () => this.handlers.close?.(this, reason));
    this.markClosed();
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    const deadline = this.clock.now() + deadlineMs;
    const finished = await this.idle.wait(deadlineMs);
    if (this.stateValue === 'closed') return;
    if (!finished) {
      this.log.warn({ inFlight: this.outbound.size, inbound: this.responder.active }, 'close deadline reached with work in flight');
      this.outbound.rejectPending(new SessionClosedError(`${this.reasonValue}: no response before the close deadline`));
    } else if (this.peerBound && !this.socket.destroyed) {
      try {
        await this.send({ command: 'unbind' }, true, Math.max(1, Math.min(this.timeoutMs, deadline - this.clock.now())));
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'unbind got no answer');
      }
    }
    // The peer's FIN is waited for within the deadline too.
    this.endSocket(Math.max(1, Math.min(2_000, deadline - this.clock.now())));
  }

  /** Sends what is queued, half-closes, and destroys the socket if the peer does not close too. */
  private endSocket(graceMs = 2_000): void {
    this.writer.flush();
    this.socket.end();
    this.endTimer ??= this.clock.setTimeout(() => this.socket.destroy(), graceMs);
  }

  // ---- requests both ways -------------------------------------------------------------------------

  private checkSendable(command: CommandName): void {
    if (this.closing !== undefined && command !== 'unbind' && command !== 'enquire_link') {
      throw new SessionClosedError(this.reasonValue || 'closing');
    }
    if (this.stateValue === 'closed') throw new SessionClosedError(this.reasonValue);
    if (!maySend(this.role, command, this.stateValue)) {
      throw new SessionStateError(`${command} may not be sent in state ${this.stateValue} (${this.role} side)`);
    }
  }

  /** A control request (bind, unbind, enquire_link): sent outside the window, at once. */
  private send(pdu: Omit<PduInput, 'sequence_number'>, control: boolean, timeoutMs = this.timeoutMs): Promise<Pdu> {
    const bytes = encodeAs(pdu.command, MIN_SEQUENCE, 0, pdu);
    return new Promise<Pdu>((resolve, reject) => this.outbound.send(bytes, pdu.command, control, timeoutMs, resolve, reject));
  }

  private onData(chunk: Buffer): void {
    if (this.reader.discarding) return;
    this.timers.lastRx = this.clock.now();
    this.reader.read(chunk);
  }

  /** The peer's unbind: answered, then the connection ends; refused where the table refuses it. */
  private onUnbind(pdu: Pdu): void {
    if (!this.apply({ type: 'unbind_received', reason: 'peer unbound' })) return this.responder.respond(pdu, { command_status: ESME_RINVBNDSTS });
    this.responder.respond(pdu, {});
    this.endSocket();
  }

  private callHandler(name: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.stack : String(err), handler: name }, 'session handler threw');
    }
  }
}
