// A token bucket: `rate` tokens a second, at most `burst` saved up. Rate 0 means no limit.
// A carrier's throttling answer (0x58) can slow it down for a while (slowDown).
import type { Clock } from '../clock.js';

export class TokenBucket {
  private tokens: number;
  private last: number;
  private slowUntil = 0;
  private slowFactor = 1;

  constructor(
    private rate: number,
    private readonly clock: Clock,
    private burst = Math.max(1, rate),
  ) {
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** The rate in force now (reduced while slowed down). */
  get currentRate(): number {
    return this.clock.now() < this.slowUntil ? this.rate * this.slowFactor : this.rate;
  }

  setRate(rate: number): void {
    this.refill();
    this.rate = rate;
    this.burst = Math.max(1, rate);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /**
   * Takes `n` tokens if there are (a message of more parts than the burst passes on a full bucket
   * and leaves it in debt, so the rate still holds over time).
   */
  take(n = 1): boolean {
    if (this.rate <= 0) return true;
    this.refill();
    if (this.tokens < Math.min(n, this.burst)) return false;
    this.tokens -= n;
    return true;
  }

  /** Counts `n` tokens whether or not there are (work that must go, counted against the rate). */
  charge(n = 1): void {
    if (this.rate <= 0) return;
    this.refill();
    this.tokens -= n;
  }

  /** Milliseconds until a token will be there (0 if one is). */
  waitMs(): number {
    if (this.rate <= 0) return 0;
    this.refill();
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) / this.currentRate) * 1000);
  }

  /** Runs at `factor` × the rate for `ms`, and drops the saved-up tokens. */
  slowDown(factor: number, ms: number): void {
    this.refill();
    this.slowFactor = factor;
    this.slowUntil = this.clock.now() + ms;
    this.tokens = Math.min(this.tokens, 0);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed <= 0) return;
    // The part of the interval inside a slowdown earns at the slow rate, the rest at the full one.
    const slowMs = Math.max(0, Math.min(now, this.slowUntil) - (now - elapsed));
    const earned = (slowMs * this.rate * this.slowFactor + (elapsed - slowMs) * this.rate) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + earned);
  }
}
