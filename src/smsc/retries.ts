// Retry scheduling: a message a carrier could not take now is recorded for retry in the ledger
// (next_at, error) and comes back after its backoff; a write the store refused for now is tried
// again every second. One timer queue for all of them (Haraka's timer_queue).
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { TimerQueue } from '../rate/timer-queue.js';
import type { GroupCommit } from '../store/group-commit.js';
import { StoreUnavailableError, logWriteError } from '../store/health.js';
import type { Ledger } from '../store/ledger.js';
import type { Outgoing } from './link.js';
import type { ErrorRules } from './rules.js';

export interface RetriesOptions {
  clock: Clock;
  commit: GroupCommit;
  ledger: Pick<Ledger, 'markRetry'>;
  logger: Logger;
}

export class Retries {
  private readonly queue: TimerQueue;

  constructor(private readonly o: RetriesOptions) {
    this.queue = new TimerQueue(o.clock, (err) => o.logger.error({ err: String(err) }, 'retry job failed'));
  }

  /** Messages (and writes) waiting for their time. */
  get size(): number {
    return this.queue.size;
  }

  /** Sends `msg` again through `resend` after the rules' backoff for `status`. */
  later(msg: Outgoing, status: number | null, rules: ErrorRules, resend: (msg: Outgoing) => void): void {
    const delay = rules.delayMs(msg.attempts, status);
    const nextAt = this.o.clock.wallNow() + delay;
    this.o.commit
      .run(() => this.o.ledger.markRetry(msg.id, nextAt, status ?? 0))
      .catch((err: Error) => logWriteError(this.o.logger, err, { msgId: msg.id }, 'could not record retry'));
    this.queue.add(delay, () => resend(msg));
  }

  /**
   * A write about a message that left memory failed with `err`. Refused for now (disk full,
   * locked): `again` runs every second until it commits (the carrier took the message: sending
   * it again would be a duplicate). A real fault, or the store lost, is logged and left.
   */
  rewrite(err: unknown, again: () => Promise<void>, msgId: number, what: string): Promise<void> | void {
    if (!(err instanceof StoreUnavailableError) || err.reason === 'lost') return logWriteError(this.o.logger, err, { msgId }, what);
    return new Promise<void>((resolve) => this.queue.add(1_000, () => resolve(again().catch((next: unknown) => this.rewrite(next, again, msgId, what)))));
  }

  /** Drops every pending retry (they stay queued in the ledger for the next start). */
  clear(): void {
    this.queue.clear();
  }
}
