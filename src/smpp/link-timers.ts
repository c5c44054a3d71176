// The session's two watchdog timers. They report to the session and change nothing themselves:
// `link_idle` after a silence from the peer (the session sends enquire_link; one left unanswered
// means a dead peer), and, SMSC side, `bind_timeout` for a connection not bound in time (the
// transition table drops it unless it is bound by then). The session stops both in its teardown.
import type { Clock, TimerHandle } from '../clock.js';
import type { SessionEvent } from './states.js';

export class LinkTimers {
  /** When the peer last sent anything. */
  lastRx: number;
  private enquireTimer: TimerHandle | undefined;
  private bindTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    /** Silence after which the link counts as idle (0: never). */
    private readonly enquireMs: number,
    private readonly report: (event: SessionEvent) => void,
  ) {
    this.lastRx = clock.now();
  }

  /** Starts the idle check and the bind timeout (0 turns either off). */
  start(bindTimeoutMs: number): void {
    if (this.enquireMs > 0) this.enquireTimer = this.clock.setTimeout(() => this.idleTick(), this.enquireMs);
    if (bindTimeoutMs > 0) {
      this.bindTimer = this.clock.setTimeout(() => {
        this.bindTimer = undefined;
        this.report({ type: 'bind_timeout', reason: 'bind timeout' });
      }, bindTimeoutMs);
    }
  }

  /** A bind was accepted: the bind timeout no longer applies. */
  bound(): void {
    if (this.bindTimer !== undefined) this.clock.clearTimeout(this.bindTimer);
    this.bindTimer = undefined;
  }

  /** The session is over: stops both timers. */
  stop(): void {
    this.stopped = true;
    for (const t of [this.enquireTimer, this.bindTimer]) if (t !== undefined) this.clock.clearTimeout(t);
    this.enquireTimer = this.bindTimer = undefined;
  }

  private idleTick(): void {
    this.enquireTimer = undefined;
    const idle = this.clock.now() - this.lastRx;
    if (idle >= this.enquireMs) this.report({ type: 'link_idle' });
    // The report may have ended the session (stop() ran): no new timer then.
    if (this.stopped) return;
    const wait = idle >= this.enquireMs ? this.enquireMs : this.enquireMs - idle;
    this.enquireTimer = this.clock.setTimeout(() => this.idleTick(), wait);
  }
}
