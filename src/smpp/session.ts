// One SMPP session over one socket, either side of the link: the state machine, sequence numbers,
// the window of outstanding requests with response timeouts, enquire_link, unbind, and an orderly
// close. Nothing here knows about accounts or routes: callers supply handlers. A handler that
// throws or rejects never reaches the process: the peer gets ESME_RSYSERR and the log a line.
// Running those handlers and answering the peer's requests is in responder.ts; the enquire_link
// and bind timers are in link-timers.ts.
import type { Socket } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { GatewayError } from '../errors.js';
import { BindError, PduError, ResponseTimeoutError, SessionClosedError, SessionStateError, SmppError } from './errors.js';
import { silentLogger, type Logger } from '../log.js';
import { DEFAULT_MAX_PDU_SIZE, decode, encodeAs } from './codec.js';
import { COMMANDS, COMMANDS_BY_ID, ESME_RALYBND, ESME_RINVBNDSTS, ESME_RINVCMDID, ESME_RINVCMDLEN, MAX_SEQUENCE, MIN_SEQUENCE, statusName } from './defs.js';
import { Fifo } from '../util/fifo.js';
import { Framer } from './framer.js';
import { LinkTimers } from './link-timers.js';
import type { Bodies, CommandName, Pdu, PduInput, PduOf, RequestName, ResponseOf } from './pdu.js';
import { PendingRequests, type PendingRequest } from './pending.js';
import { Responder, type SessionHandlers } from './responder.js';
import { BIND_STATE, isBindCommand, isBound, mayReceive, maySend, peerSends, type BindCommand, type SessionRole, type SessionState } from './states.js';
import { CoalescingWriter } from './writer.js';

/** Invalid PDUs per session logged at warn; the rest at debug. */
const INVALID_PDUS_LOGGED = 10;

export type { BindPdu, ResponseInit, SessionHandlers } from './responder.js';

export interface SessionOptions {
  role: SessionRole;
  handlers?: SessionHandlers;
  /** Outstanding requests we send before waiting for a response (default 10). */
  window?: number;
  /** Requests from the peer being handled at once; more are answered ESME_RMSGQFUL (default 100). */
  inboundWindow?: number;
  /** A request without a response after this long is rejected (default 10 s). */
  responseTimeoutMs?: number;
  /** Silence after which we send enquire_link (default 30 s; 0 turns it off). */
  enquireLinkMs?: number;
  /** SMSC side: a connection not bound after this long is closed (default 30 s; 0 turns it off). */
  bindTimeoutMs?: number;
  /** Largest PDU accepted (default 64 KiB). */
  maxPduSize?: number;
  /** Unsent bytes above which sending waits and reading pauses (default 1 MiB). */
  writeHighWaterMark?: number;
  /** Sequence number of our first request (default 1). For tests of the wrap at 0x7FFFFFFF. */
  firstSequence?: number;
  clock?: Clock;
  logger?: Logger;
  /** A name for logs. */
  id?: string;
}

type Waiter = { resolve(): void; reject(err: Error): void };

/**
 * For a request whose answer still matters after its timeout: `handle` gets a response that comes
 * up to `ms` after the timeout, or undefined when none came by then or the session ended.
 */
export interface LateResponse {
  ms: number;
  handle(pdu: Pdu | undefined): void;
}

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
  private seq: number;
  /** A bind succeeded at the peer and no unbind has been exchanged: close() must unbind. */
  private peerBound = false;
  private readonly pending: PendingRequests;
  private readonly waiters = new Fifo<Waiter>();
  /** Framing was lost: input is read and dropped until the connection ends. */
  private discarding = false;
  /** Window slots handed to waiters that have not sent yet. */
  private granted = 0;
  private reasonValue = '';
  private closing: Promise<void> | undefined;
  private endTimer: TimerHandle | undefined;
  private idleResolve: (() => void) | undefined;
  private readonly closed: Promise<void>;
  private markClosed!: () => void;
  private readonly framer: Framer;
  private readonly writer: CoalescingWriter;
  /** Runs the handlers for the peer's requests and answers them. */
  private readonly responder: Responder;
  /** enquire_link and the bind timeout. */
  private readonly timers: LinkTimers;
  private readonly handlers: SessionHandlers;
  private readonly clock: Clock;
  private readonly window: number;
  private readonly timeoutMs: number;
  private readonly maxPduSize: number;
  private invalidPdus = 0;

  constructor(readonly socket: Socket, options: SessionOptions) {
    this.role = options.role;
    // Named by the peer, as an operator reads it: a session with an ESME is `esme-N`.
    this.id = options.id ?? `${options.role === 'smsc' ? 'esme' : 'smsc'}-${++sessionCounter}`;
    this.handlers = options.handlers ?? {};
    this.clock = options.clock ?? systemClock;
    this.window = options.window ?? 10;
    this.timeoutMs = options.responseTimeoutMs ?? 10_000;
    this.maxPduSize = options.maxPduSize ?? DEFAULT_MAX_PDU_SIZE;
    const first = options.firstSequence ?? MIN_SEQUENCE;
    if (!Number.isInteger(first) || first < MIN_SEQUENCE || first > MAX_SEQUENCE) throw new RangeError(`firstSequence ${first} is outside 1..0x7FFFFFFF`);
    this.seq = first - 1;
    this.log = (options.logger ?? silentLogger).child({ session: this.id });
    this.timers = new LinkTimers(this, this.clock, options.enquireLinkMs ?? 30_000, {
      isClosing: () => this.closing !== undefined,
      enquire: () => this.send({ command: 'enquire_link' }, true),
    });
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.framer = new Framer(this.maxPduSize);
    this.pending = new PendingRequests(this.clock, (req) => this.onTimeout(req));
    this.writer = new CoalescingWriter(socket, options.writeHighWaterMark ?? 1024 * 1024, (blocked) => {
      if (!blocked) this.pump();
    });
    this.responder = new Responder(this, this.handlers, this.writer, this.log, options.inboundWindow ?? 100, {
      setState: (state) => this.setState(state),
      bound: (systemId) => {
        this.systemId = systemId;
        this.peerBound = true;
        this.timers.bound();
      },
      settled: () => this.checkIdle(),
    });
    socket.setNoDelay(true);
    // The peer's FIN must not end our side at once: the answers to its last requests still go out.
    socket.allowHalfOpen = true;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.reasonValue ||= `socket error: ${err.message}`;
      this.log.warn({ err: err.message }, 'socket error');
    });
    socket.on('close', () => this.teardown());
    socket.on('end', () => this.onPeerEnd());
    this.timers.start(options.bindTimeoutMs ?? 30_000);
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get isBound(): boolean {
    return isBound(this.stateValue);
  }

  /** Our requests awaiting a response, counted against the window. */
  get inFlight(): number {
    return this.pending.inWindow;
  }

  /** Every request awaiting a response, in the window or not (enquire_link, bind, unbind). */
  get outstanding(): number {
    return this.pending.size;
  }

  /** Outstanding requests allowed (the configured window). */
  get windowSize(): number {
    return this.window;
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
    return this.pending.inWindow + this.granted < this.window && !this.writer.isBlocked && this.stateValue !== 'closed' && this.closing === undefined;
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
    if (!this.canSend || this.waiters.length > 0) {
      // Wait in line for a window slot; pump() hands slots out in order.
      await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
      this.granted--;
      try {
        this.checkSendable(pdu.command);
      } catch (err) {
        this.pump(); // the slot we were given goes to the next in line
        throw err;
      }
    }
    return new Promise<Pdu>((resolve, reject) => this.dispatch(bytes, pdu.command, false, this.timeoutMs, resolve, reject, late)) as Promise<PduOf<ResponseOf<C>>>;
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
    this.dispatch(bytes, command, false, this.timeoutMs, onResponse, onError, late);
  }

  /** ESME side: binds with the given command; rejects with BindError on an error status. */
  async bind(command: BindCommand, body: Partial<Bodies[BindCommand]>): Promise<PduOf<`${BindCommand}_resp`>> {
    this.checkSendable(command);
    this.bindingSystemId = body.system_id ?? '';
    this.setState('binding');
    let resp: PduOf<`${BindCommand}_resp`>;
    try {
      resp = (await this.send({ ...body, command }, true)) as PduOf<`${BindCommand}_resp`>;
    } catch (err) {
      if (this.stateValue === 'binding') this.setState('open');
      throw err;
    }
    // The state already changed in onBindResp, when the response was read.
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
      if (this.stateValue !== 'closed') await this.shutdown(deadlineMs);
      await this.closed;
    })();
    return this.closing;
  }

  /** Closes the connection at once; everything pending is rejected before this returns. */
  destroy(reason = 'destroyed'): void {
    this.reasonValue ||= reason;
    this.writer.flush();
    this.socket.destroy();
    this.teardown();
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.setState('unbinding');
    this.rejectWaiters(new SessionClosedError(this.reasonValue));
    const deadline = this.clock.now() + deadlineMs;
    const finished = await this.waitIdle(deadlineMs);
    if (this.stateValue === 'closed') return;
    if (!finished) {
      this.log.warn({ inFlight: this.pending.size, inbound: this.responder.active }, 'close deadline reached with work in flight');
      this.pending.rejectAll(new SessionClosedError(`${this.reasonValue}: no response before the close deadline`));
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

  // ---- sending ----------------------------------------------------------------------------------

  private checkSendable(command: CommandName): void {
    if (this.closing !== undefined && command !== 'unbind' && command !== 'enquire_link') {
      throw new SessionClosedError(this.reasonValue || 'closing');
    }
    if (this.stateValue === 'closed') throw new SessionClosedError(this.reasonValue);
    if (!maySend(this.role, command, this.stateValue)) {
      throw new SessionStateError(`${command} may not be sent in state ${this.stateValue} (${this.role} side)`);
    }
  }

  private nextSequence(): number {
    do {
      this.seq = this.seq >= MAX_SEQUENCE ? 1 : this.seq + 1;
    } while (this.pending.has(this.seq));
    return this.seq;
  }

  private send(pdu: Omit<PduInput, 'sequence_number'>, control: boolean, timeoutMs = this.timeoutMs): Promise<Pdu> {
    return this.sendBytes(encodeAs(pdu.command, MIN_SEQUENCE, 0, pdu), pdu.command, control, timeoutMs);
  }

  /** Sends an encoded request, writing its sequence number into the header. */
  private sendBytes(bytes: Buffer, command: CommandName, control: boolean, timeoutMs = this.timeoutMs): Promise<Pdu> {
    return new Promise<Pdu>((resolve, reject) => this.dispatch(bytes, command, control, timeoutMs, resolve, reject));
  }

  private dispatch(bytes: Buffer, command: CommandName, control: boolean, timeoutMs: number, resolve: (pdu: Pdu) => void, reject: (err: Error) => void, late?: LateResponse): void {
    const seq = this.nextSequence();
    bytes.writeUInt32BE(seq, 12);
    const now = this.clock.now();
    this.pending.add({ seq, command, control, sentAt: now, deadline: now + timeoutMs, timeoutMs, resolve, reject, ...(late ? { lateMs: late.ms, late: late.handle } : {}) });
    this.writer.write(bytes);
  }

  private pump(): void {
    if (this.writer.isBlocked) return;
    while (this.waiters.length > 0 && this.pending.inWindow + this.granted < this.window) {
      this.granted++;
      this.waiters.shift()!.resolve();
    }
  }

  private rejectWaiters(err: Error): void {
    for (const w of this.waiters.drain()) w.reject(err);
  }

  // ---- receiving --------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.discarding) return;
    this.timers.lastRx = this.clock.now();
    try {
      this.framer.push(chunk, (buf, start) => this.onFrame(buf, start));
    } catch (err) {
      // Framing is lost: nothing after this point can be trusted to start a PDU.
      const e = err as SmppError;
      this.log.warn({ err: e.message }, 'framing lost; closing the connection');
      this.reasonValue ||= `framing error: ${e.message}`;
      // Read and drop whatever else comes (so closing sends FIN, not a reset over unread bytes),
      // answer with generic_nack, and end once it and everything queued before it is sent.
      this.discarding = true;
      const closed = new SessionClosedError(this.reasonValue);
      this.rejectWaiters(closed);
      this.pending.rejectAll(closed);
      if (e instanceof GatewayError && e.code === 'SMPP_FRAMING') this.responder.nack(0, ESME_RINVCMDLEN);
      this.socket.resume();
      this.endSocket();
    }
  }

  private onFrame(buf: Buffer, start: number): void {
    if (this.stateValue === 'closed') return; // destroyed by a handler while this chunk was split
    let pdu: Pdu;
    try {
      pdu = decode(buf, start, this.maxPduSize);
    } catch (err) {
      if (!(err instanceof PduError)) throw err;
      this.onBadPdu(err);
      return;
    }
    if (COMMANDS.get(pdu.command)!.isResponse) this.onResponse(pdu);
    else this.onRequest(pdu);
  }

  private onBadPdu(err: PduError): void {
    const id = err.commandId ?? 0;
    const seq = err.sequenceNumber ?? 0;
    const cmd = COMMANDS_BY_ID.get(id);
    // Every one is answered; only the first few per session are worth an operator's line (a peer
    // sending nothing else must not fill the log).
    this.invalidPdus++;
    const line = { err: err.message, commandId: `0x${id.toString(16)}`, seq };
    if (this.invalidPdus <= INVALID_PDUS_LOGGED) this.log.warn(line, 'invalid PDU');
    else this.log.debug(line, 'invalid PDU');
    if (this.invalidPdus === INVALID_PDUS_LOGGED) this.log.warn({ logged: INVALID_PDUS_LOGGED }, 'more invalid PDUs on this session are logged at debug only');
    if (cmd === undefined) return this.responder.nack(seq, err.status); // unknown command_id: generic_nack
    if (cmd.isResponse) {
      this.pending.take(seq)?.reject(err);
      this.pump();
      this.checkIdle();
      return;
    }
    // A request whose header is sound but body is not: answer it with its own response and the
    // status naming the fault (SMPP 3.4 §3.3.1 keeps generic_nack for bad headers).
    if (cmd.pair) this.responder.respond({ command: cmd.name, sequence_number: seq } as Pdu, { command_status: err.status });
    else this.responder.nack(seq, err.status);
  }

  private onResponse(pdu: Pdu): void {
    const req = this.pending.take(pdu.sequence_number);
    // Answers to windowed requests show the peer still works through them (enquire_link does not).
    if (req !== undefined && !req.control) this.pending.heard();
    if (req === undefined) {
      const late = this.pending.takeLate(pdu.sequence_number);
      if (late !== undefined) {
        this.pending.heard();
        // Timed out, but its sender still wants the answer (a late OK still counts).
        this.log.debug({ command: pdu.command, seq: pdu.sequence_number, ms: this.clock.now() - late.sentAt }, 'late response');
        late.late?.(pdu.command === `${late.command}_resp` || pdu.command === 'generic_nack' ? pdu : undefined);
        this.checkIdle();
        return;
      }
      this.log.debug({ command: pdu.command, seq: pdu.sequence_number }, 'response to no pending request (late or unknown)');
      return;
    }
    if (pdu.command === 'generic_nack') req.reject(new SmppError(pdu.command_status, `${req.command} answered with generic_nack ${statusName(pdu.command_status)}`));
    else if (pdu.command !== `${req.command}_resp`) req.reject(new SmppError(ESME_RINVCMDID, `${req.command} answered with ${pdu.command}`));
    else {
      if (isBindCommand(req.command)) this.onBindResp(req.command, pdu);
      req.resolve(pdu);
    }
    this.pump();
    this.checkIdle();
  }

  /**
   * ESME side: our bind was answered. The state changes now, not when bind() resumes: a deliver_sm
   * in the same TCP read as the bind_resp is handled before any promise continuation runs.
   */
  private onBindResp(command: BindCommand, pdu: Pdu): void {
    if (pdu.command_status !== 0) {
      if (this.stateValue === 'binding') this.setState('open');
      return;
    }
    this.peerBound = true;
    if (this.stateValue !== 'binding') return; // closing meanwhile: close() unbinds
    this.systemId = this.bindingSystemId;
    this.setState(BIND_STATE[command]);
  }

  private onRequest(pdu: Pdu): void {
    const cmd = pdu.command;
    if (cmd === 'enquire_link') return this.responder.respond(pdu, {});
    // A command that goes the wrong way on this link (deliver_sm from an ESME, …).
    if (!peerSends(this.role, cmd)) return this.responder.refuse(pdu, ESME_RINVCMDID);
    if (cmd === 'unbind') return this.onUnbind(pdu);
    if (!mayReceive(this.role, cmd, this.stateValue)) {
      return this.responder.refuse(pdu, isBindCommand(cmd) && this.isBound ? ESME_RALYBND : ESME_RINVBNDSTS);
    }
    // The inbound window, the bind decision (SMSC side) and the request handler.
    this.responder.handle(pdu);
  }

  private onUnbind(pdu: Pdu): void {
    if (!this.isBound && this.stateValue !== 'unbinding') return this.responder.respond(pdu, { command_status: ESME_RINVBNDSTS });
    this.log.info('peer unbound');
    this.reasonValue ||= 'peer unbound';
    this.peerBound = false;
    this.setState('unbinding');
    // Nothing we sent can be answered any more: the peer ends the session with its unbind.
    const err = new SessionClosedError('peer unbound');
    this.rejectWaiters(err);
    this.pending.rejectAll(err);
    this.responder.respond(pdu, {});
    this.endSocket();
  }

  /**
   * The peer half-closed (FIN): it sends nothing more, so our requests can never be answered, but
   * the requests it sent before are still handled and answered; then we end our side too.
   */
  private onPeerEnd(): void {
    this.reasonValue ||= 'peer closed the connection';
    this.peerBound = false; // an unbind could not be answered
    const err = new SessionClosedError(this.reasonValue);
    this.rejectWaiters(err);
    this.pending.rejectAll(err);
    this.checkIdle();
    void this.close(this.reasonValue, this.timeoutMs);
  }

  /** Sends what is queued, half-closes, and destroys the socket if the peer does not close too. */
  private endSocket(graceMs = 2_000): void {
    this.writer.flush();
    this.socket.end();
    this.endTimer ??= this.clock.setTimeout(() => this.socket.destroy(), graceMs);
  }

  // ---- timers and teardown ----------------------------------------------------------------------

  private onTimeout(req: PendingRequest): void {
    req.reject(new ResponseTimeoutError(req.command, req.seq, req.timeoutMs));
    if (req.command === 'enquire_link') {
      this.log.warn({ ms: this.timeoutMs }, 'peer did not answer enquire_link; closing');
      this.destroy('dead peer: enquire_link unanswered');
      return;
    }
    this.pump();
    this.checkIdle();
  }

  private waitIdle(ms: number): Promise<boolean> {
    if (this.pending.size === 0 && this.responder.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.idleResolve = undefined;
        resolve(false);
      }, ms);
      this.idleResolve = () => {
        this.clock.clearTimeout(timer);
        this.idleResolve = undefined;
        resolve(true);
      };
    });
  }

  private checkIdle(): void {
    if (this.idleResolve !== undefined && this.pending.size === 0 && this.responder.active === 0) this.idleResolve();
  }

  private setState(state: SessionState): void {
    if (this.stateValue === state || this.stateValue === 'closed') return;
    this.stateValue = state;
    this.log.debug({ state }, 'session state');
    this.callHandler('state', () => this.handlers.state?.(this, state));
  }

  /** The session is over (socket closed or destroyed): reject everything, stop every timer. */
  private teardown(): void {
    if (this.stateValue === 'closed') return;
    const reason = (this.reasonValue ||= 'connection closed');
    this.setState('closed');
    this.timers.stop();
    if (this.endTimer !== undefined) this.clock.clearTimeout(this.endTimer);
    this.endTimer = undefined;
    const err = new SessionClosedError(reason);
    this.pending.rejectAll(err);
    this.rejectWaiters(err);
    this.idleResolve?.();
    this.log.info({ reason }, 'session closed');
    this.callHandler('close', () => this.handlers.close?.(this, reason));
    this.markClosed();
  }

  private callHandler(name: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.stack : String(err), handler: name }, 'session handler threw');
    }
  }
}
