// Our requests to the peer: sequence numbers, the window (requests wait in line for a slot), the
// requests awaiting a response with their timeouts, and matching the peer's responses to them.
// What changes the session's state (a bind answered, a timeout) is reported to it as an event.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { Fifo } from '../util/fifo.js';
import { ESME_RINVCMDID, MAX_SEQUENCE, statusName } from './defs.js';
import { BadResponseError, ResponseTimeoutError, SmppError } from './errors.js';
import type { LateResponse } from './options.js';
import type { CommandName, Pdu } from './pdu.js';
import { PendingRequests, type PendingRequest } from './pending.js';
import { isBindCommand, type SessionEvent } from './states.js';
import type { CoalescingWriter } from './writer.js';

type Waiter = { resolve(): void; reject(err: Error): void };

/** How Outbound reports to its Session (built once per session). */
export interface OutboundHost {
  /** bind_accepted / bind_refused on a bind's answer; enquire_link_timeout, response_timeout. */
  report(event: SessionEvent): void;
  /** A request settled: the session may have become idle. */
  settled(): void;
}

export class Outbound {
  private seq: number;
  private readonly pending: PendingRequests;
  private readonly waiters = new Fifo<Waiter>();
  /** Window slots handed to waiters that have not sent yet. */
  private granted = 0;

  constructor(
    private readonly writer: CoalescingWriter,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Outstanding requests allowed. */
    readonly window: number,
    firstSequence: number,
    private readonly host: OutboundHost,
  ) {
    this.seq = firstSequence - 1;
    this.pending = new PendingRequests(clock, (req) => this.onTimeout(req));
  }

  /** Requests awaiting a response, counted against the window. */
  get inWindow(): number {
    return this.pending.inWindow;
  }

  /** Every request awaiting a response, in the window or not (enquire_link, bind, unbind). */
  get size(): number {
    return this.pending.size;
  }

  /** A window slot is free (not counting those handed to waiters) and the socket is not backed up. */
  get hasRoom(): boolean {
    return this.pending.inWindow + this.granted < this.window && !this.writer.isBlocked;
  }

  /** Requests waiting in line for a window slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Waits in line for a window slot; pump() hands them out in order. Rejects when the session ends. */
  async waitTurn(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.granted--;
  }

  /** Sends an encoded request, writing the next sequence number into its header. */
  send(
    bytes: Buffer,
    command: CommandName,
    control: boolean,
    timeoutMs: number,
    resolve: (pdu: Pdu) => void,
    reject: (err: Error) => void,
    late?: LateResponse,
  ): void {
    const seq = this.nextSequence();
    bytes.writeUInt32BE(seq, 12);
    const now = this.clock.now();
    this.pending.add({
      seq,
      command,
      control,
      sentAt: now,
      deadline: now + timeoutMs,
      timeoutMs,
      resolve,
      reject,
      ...(late ? { lateMs: late.ms, late: late.handle } : {}),
    });
    this.writer.write(bytes);
  }

  /** Hands free window slots to the waiters, in order. */
  pump(): void {
    if (this.writer.isBlocked) return;
    while (this.waiters.length > 0 && this.pending.inWindow + this.granted < this.window) {
      this.granted++;
      this.waiters.shift()?.resolve();
    }
  }

  rejectWaiters(err: Error): void {
    for (const w of this.waiters.drain()) w.reject(err);
  }

  /** Requests awaiting a response are rejected (and late listeners told there is none). */
  rejectPending(err: Error): void {
    this.pending.rejectAll(err);
  }

  /** Nothing we sent or meant to send can be answered any more. */
  rejectAll(err: Error): void {
    this.rejectWaiters(err);
    this.pending.rejectAll(err);
  }

  /** A response from the peer: settles the request it answers. */
  onResponse(pdu: Pdu): void {
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
        this.host.settled();
        return;
      }
      this.log.debug({ command: pdu.command, seq: pdu.sequence_number }, 'response to no pending request (late or unknown)');
      return;
    }
    if (pdu.command === 'generic_nack')
      req.reject(new SmppError(pdu.command_status, `${req.command} answered with generic_nack ${statusName(pdu.command_status)}`));
    else if (pdu.command !== `${req.command}_resp`) req.reject(new SmppError(ESME_RINVCMDID, `${req.command} answered with ${pdu.command}`));
    else {
      // Reported now, not when bind() resumes: a deliver_sm in the same TCP read as the bind_resp
      // is handled before any promise continuation runs.
      if (isBindCommand(req.command)) this.host.report(pdu.command_status === 0 ? { type: 'bind_accepted', command: req.command } : { type: 'bind_refused' });
      req.resolve(pdu);
    }
    this.pump();
    this.host.settled();
  }

  /** A response that could not be decoded: the request it answers fails with the decoding error. */
  onBadResponse(seq: number, err: SmppError): void {
    this.pending.take(seq)?.reject(new BadResponseError(err.status, err.message));
    this.pump();
    this.host.settled();
  }

  private nextSequence(): number {
    do {
      this.seq = this.seq >= MAX_SEQUENCE ? 1 : this.seq + 1;
    } while (this.pending.has(this.seq));
    return this.seq;
  }

  private onTimeout(req: PendingRequest): void {
    req.reject(new ResponseTimeoutError(req.command, req.seq, req.timeoutMs));
    // An unanswered enquire_link means a dead peer; anything else frees its window slot.
    if (req.command === 'enquire_link') this.host.report({ type: 'enquire_link_timeout', reason: 'dead peer: enquire_link unanswered' });
    else this.host.report({ type: 'response_timeout' });
  }
}
