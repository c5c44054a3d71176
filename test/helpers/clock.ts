// A clock the test advances by hand: timers fire in deadline order, and only when advanced.
import type { Clock, TimerHandle } from '../../src/clock.js';

interface Timer {
  at: number;
  fn: () => void;
  id: number;
}

/** Timers one advance() may fire before it concludes that a timer re-arms itself without end. */
const MAX_FIRES_PER_ADVANCE = 100_000;

export class ManualClock implements Clock {
  private t = 0;

  /** `wallStart`: the wall-clock time (ms since the epoch) at which this clock starts. */
  constructor(private readonly wallStart = Date.UTC(2026, 0, 1)) {}
  private timers: Timer[] = [];
  private nextId = 0;

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.wallStart + this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.t + Math.max(0, ms), fn, id: ++this.nextId };
    this.timers.push(timer);
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t !== (handle as unknown as Timer));
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** When the earliest pending timer falls due (undefined when none is pending). */
  nextDue(): number | undefined {
    let at: number | undefined;
    for (const t of this.timers) if (at === undefined || t.at < at) at = t.at;
    return at;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order (a timer set by one
   * that fires runs in the same advance if it falls due too). Throws if timers keep re-arming.
   */
  advance(ms: number): void {
    const until = this.t + ms;
    for (let fired = 0; ; fired++) {
      if (fired >= MAX_FIRES_PER_ADVANCE) throw new Error(`ManualClock: more than ${MAX_FIRES_PER_ADVANCE} timers fired in one advance`);
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = until;
  }
}
