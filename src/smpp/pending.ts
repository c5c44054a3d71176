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
}

export class PendingRequests {
  private readonly bySeq = new Map<number, PendingRequest>();
  private windowed = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;

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

  has(seq: number): boolean {
    return this.bySeq.has(seq);
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
    if (this.bySeq.size === 0 && this.timer !== undefined) {
      // Nothing left to time out: no timer should outlive the last request.
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
    }
    return req;
  }

  /** Removes every request, rejecting each with `err`. */
  rejectAll(err: Error): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    const all = [...this.bySeq.values()];
    this.bySeq.clear();
    this.windowed = 0;
    for (const req of all) req.reject(err);
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
    for (const req of due) {
      // An earlier onTimeout may have settled it (rejectAll on close).
      if (this.bySeq.get(req.seq) !== req) continue;
      this.take(req.seq);
      this.onTimeout(req);
    }
    // Requests sent from an onTimeout callback armed the timer themselves; re-arm for the rest.
    let next = Infinity;
    for (const req of this.bySeq.values()) if (req.deadline < next) next = req.deadline;
    if (next < this.timerAt) this.arm(next);
  }
}
