// Scheduled delivery held by the gateway (`--schedule hold` connectors): a message due later stays
// in the ledger only (next_at = its due time), not in memory, and is paged in by due time when it
// falls due. The ledger's messages_due index holds exactly the queued rows due later than their
// submit (scheduled, or waiting to retry), so the pages cost nothing for messages sent at once.
import type { Clock, TimerHandle } from '../clock.js';
import type { Ledger, QueuedMessage } from '../store/ledger.js';

export type DueLedger = Pick<Ledger, 'duePage' | 'nextDue'>;

/** A timer is never armed further ahead than this (Node's timers top out at ~24.8 days). */
const MAX_WAIT_MS = 3_600_000;
const PAGE = 1_000;

export class DuePaging {
  private timer: TimerHandle | undefined;
  private armedAt = Infinity;
  /** The last (due time, id) paged in: the next page starts after it. */
  private afterAt = 0;
  private afterId = 0;

  constructor(
    private readonly ledger: DueLedger,
    private readonly clock: Clock,
    /** Takes a due message (the caller skips one it holds already). */
    private readonly due: (m: QueuedMessage) => void,
  ) {}

  /** A message is due at `at`: wake up by then. */
  note(at: number): void {
    if (at < this.armedAt) this.arm(at);
  }

  /** At start: wake up for the earliest message due later. */
  resume(): void {
    const at = this.ledger.nextDue(0);
    if (at !== undefined) this.arm(at);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  /** Pages in every message due by now (in due order), then waits for the next one. */
  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.clock.wallNow();
    for (;;) {
      const page = this.ledger.duePage(now, this.afterAt, this.afterId, PAGE);
      for (const m of page) {
        this.afterAt = m.nextAt;
        this.afterId = m.id;
        this.due(m);
      }
      if (page.length < PAGE) break;
    }
    const next = this.ledger.nextDue(now);
    if (next !== undefined) this.arm(next);
  }

  private arm(at: number): void {
    // A message rescheduled earlier than one already paged in (replace_sm) is paged from there again.
    if (at < this.afterAt) {
      this.afterAt = 0;
      this.afterId = 0;
    }
    this.stop();
    this.armedAt = at;
    const wait = Math.min(MAX_WAIT_MS, Math.max(0, at - this.clock.wallNow()));
    this.timer = this.clock.setTimeout(() => (wait < MAX_WAIT_MS ? this.fire() : this.arm(at)), wait);
  }
}
