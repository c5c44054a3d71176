// The session's two watchdog timers: enquire_link after a silence from the peer (one left
// unanswered means a dead peer: see Session.onTimeout), and, SMSC side, the bind timeout that
// closes a connection not bound in time. The Session stops both in its teardown.
import type { Clock, TimerHandle } from '../clock.js';
import type { Session } from './session.js';
import { isBound } from './states.js';

/** What the timers need of their Session beyond the Session's public API (built once per session). */
export interface LinkTimersHost {
  /** close() has begun: no new enquire_link. */
  isClosing(): boolean;
  /** Sends enquire_link; settles with its response (or its failure). */
  enquire(): Promise<unknown>;
}

export class LinkTimers {
  /** When the peer last sent anything. */
  lastRx: number;
  private enquireTimer: TimerHandle | undefined;
  private bindTimer: TimerHandle | undefined;
  private enquireOutstanding = false;

  constructor(
    private readonly session: Session,
    private readonly clock: Clock,
    /** Silence after which we send enquire_link (0: never). */
    private readonly enquireMs: number,
    private readonly host: LinkTimersHost,
  ) {
    this.lastRx = clock.now();
  }

  /** Starts enquire_link and, SMSC side, the bind timeout (0 turns either off). */
  start(bindTimeoutMs: number): void {
    if (this.enquireMs > 0) this.enquireTimer = this.clock.setTimeout(() => this.enquireTick(), this.enquireMs);
    const session = this.session;
    if (session.role === 'smsc' && bindTimeoutMs > 0) {
      this.bindTimer = this.clock.setTimeout(() => {
        if (!isBound(session.state) && session.state !== 'closed') {
          session.log.warn({ ms: bindTimeoutMs }, 'no bind within the bind timeout; closing');
          session.destroy('bind timeout');
        }
      }, bindTimeoutMs);
    }
  }

  /** A bind was accepted: the bind timeout no longer applies. */
  bound(): void {
    if (this.bindTimer !== undefined) this.clock.clearTimeout(this.bindTimer);
  }

  /** The session is over: stops both timers. */
  stop(): void {
    for (const t of [this.enquireTimer, this.bindTimer]) if (t !== undefined) this.clock.clearTimeout(t);
    this.enquireTimer = this.bindTimer = undefined;
  }

  private enquireTick(): void {
    this.enquireTimer = undefined;
    if (this.session.state === 'closed') return;
    const idle = this.clock.now() - this.lastRx;
    if (idle >= this.enquireMs && !this.enquireOutstanding && !this.host.isClosing()) {
      this.enquireOutstanding = true;
      this.host.enquire().then(
        () => (this.enquireOutstanding = false),
        () => (this.enquireOutstanding = false),
      );
    }
    const wait = idle >= this.enquireMs ? this.enquireMs : this.enquireMs - idle;
    this.enquireTimer = this.clock.setTimeout(() => this.enquireTick(), wait);
  }
}
