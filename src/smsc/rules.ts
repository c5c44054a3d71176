// What to do when a carrier answers a submit with an error: retry (temporary) or give up
// (permanent). A rule table, so an operator can change it (as ZoneMTA's bounce rules).
import { statusName } from '../smpp/defs.js';

export interface RetryPolicy {
  /** Attempts over all connectors before a message is given up as undeliverable. */
  maxAttempts: number;
  /** First retry delay; doubled each attempt, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export type Verdict = 'temporary' | 'permanent';

/** Statuses a carrier uses for "not now": queue full, throttled, system error, temporary app error. */
export const DEFAULT_TEMPORARY: readonly number[] = [0x14, 0x58, 0x08, 0x64, 0xfe];

export class ErrorRules {
  private readonly temporary: Set<number>;

  constructor(temporary: readonly number[] = DEFAULT_TEMPORARY, readonly policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 300_000 }) {
    this.temporary = new Set(temporary);
  }

  classify(status: number): Verdict {
    return this.temporary.has(status) ? 'temporary' : 'permanent';
  }

  /** Delay before attempt number `attempts + 1`. */
  delayMs(attempts: number): number {
    return Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  }

  describe(): Array<{ status: string; verdict: Verdict }> {
    return [...this.temporary].map((s) => ({ status: statusName(s), verdict: 'temporary' as const }));
  }
}
