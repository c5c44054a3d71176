// Requests we sent and await a response for: the window count and the response timeouts. One timer
// serves them all, armed for the earliest deadline. Deadlines mostly rise in send order, but not
// always (unbind is sent with the time left before a close deadline), so expiry checks them all.
import type { Clock, TimerHandle } from '../clock.js';
import type { CommandName, Pdu } from './pdu.js';

export interface PendingRequest {
  seq: number;
  command: CommandName;
  /** Sent outside the window (enquire_link, unbind). */
  control: boolean;
  sentAt: number;
  deadline: number;
  /** The response timeout this request was sent with (for the error message). */
  timeoutMs: number;
  resolve(pdu: Pdu): void;
  reject(err: Error): void;
  /**
   * After its timeout, how long a response is still taken (0 or absent: a late response is
   * dropped). `late` hears of it: the response, or undefined when that time runs out or the
   * session ends without one.
   */
  lateMs?: number;
  late?(pdu: Pdu | undefined): void;
}

export class PendingRequests {
  private readonly bySeq = new Map<number, PendingRequest>();
  /** Timed out, still listening for a late response (keyed by sequence number, deadline = end of listening). */
  private readonly lateBySeq = new Map<number, PendingRequest>();
  private windowed = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  /** When the peer last answered anything: a peer still answering (in order, slowly) keeps late requests listened for. */
  private lastHeard = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly onTimeout: (req: PendingRequest) => void,
  ) {}

  /** Requests in flight that count against the window. */
  get inWindow(): number {
    return this.windowed;
  }

  get size(): number {
    return this.bySeq.size;
  }

  /** Taken by a request in flight or one still listening for its late response. */
  has(seq: number): boolean {
    return this.bySeq.has(seq) || this.lateBySeq.has(seq);
  }

  /** The peer answered a request (on time or late). */
  heard(): void {
    this.lastHeard = this.clock.now();
  }

  /** When a late request stops being listened for: lateMs after its timeout, and lateMs after the peer last answered. */
  private giveUpAt(req: PendingRequest): number {
    return Math.max(req.deadline, this.lastHeard + (req.lateMs ?? 0));
  }

  /** A timed-out request's late response: removed and returned if it is still listened for. */
  takeLate(seq: number): PendingRequest | undefined {
    const req = this.lateBySeq.get(seq);
    if (req !== undefined) this.lateBySeq.delete(seq);
    this.disarmIfIdle();
    return req;
  }

  add(req: PendingRequest): void {
    this.bySeq.set(req.seq, req);
    if (!req.control) this.windowed++;
    if (req.deadline < this.timerAt) this.arm(req.deadline);
  }

  /** Removes and returns the request with this sequence number. */
  take(seq: number): PendingRequest | undefined {
    const req = this.bySeq.get(seq);
    if (req === undefined) return undefined;
    this.bySeq.delete(seq);
    if (!req.control) this.windowed--;
    this.disarmIfIdle();
    return req;
  }

  private disarmIfIdle(): void {
    if (this.bySeq.size === 0 && this.lateBySeq.size === 0 && this.timer !== undefined) {
      // Nothing left to time out: no timer should outlive the last request.
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
    }
  }

  /** Removes every request, rejecting each with `err`. */
  rejectAll(err: Error): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    const all = [...this.bySeq.values()];
    const late = [...this.lateBySeq.values()];
    this.bySeq.clear();
    this.lateBySeq.clear();
    this.windowed = 0;
    for (const req of all) req.reject(err);
    for (const req of late) req.late?.(undefined);
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.expire(), Math.max(0, at - this.clock.now()));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    const due: PendingRequest[] = [];
    for (const req of this.bySeq.values()) if (req.deadline <= now) due.push(req);
    const gaveUp: PendingRequest[] = [];
    for (const req of this.lateBySeq.values()) if (this.giveUpAt(req) <= now) gaveUp.push(req);
    for (const req of gaveUp) {
      this.lateBySeq.delete(req.seq);
      req.late?.(undefined);
    }
    for (const req of due) {
      // An earlier onTimeout may have settled it (rejectAll on close).
      if (this.bySeq.get(req.seq) !== req) continue;
      this.take(req.seq);
      // Its response may still come: listened for until lateMs after the timeout, and for as long
      // as the peer keeps answering other requests within lateMs (a slow reader answering in order).
      if (req.late !== undefined && (req.lateMs ?? 0) > 0) this.lateBySeq.set(req.seq, { ...req, deadline: req.deadline + req.lateMs! });
      this.onTimeout(req);
    }
    // Requests sent from an onTimeout callback armed the timer themselves; re-arm for the rest.
    let next = Infinity;
    for (const req of this.bySeq.values()) if (req.deadline < next) next = req.deadline;
    for (const req of this.lateBySeq.values()) if (this.giveUpAt(req) < next) next = this.giveUpAt(req);
    if (next < this.timerAt) this.arm(next);
  }
}
