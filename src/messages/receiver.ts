// The seam between the durable outbox and whatever takes its receipts and MOs: an SMPP session
// today (esme/smpp-receivers.ts), a webhook tomorrow. Outbox delivery (messages/outbox-delivery.ts)
// knows only these interfaces.
import type { OutboxItem } from '../store/outbox.js';

/**
 * How an offer ended. `accepted`: the receiver has it (it leaves the outbox). `retry`: not now (an
 * error, no answer, the receiver went away): offered again with backoff until its TTL. `rejected`:
 * this receiver can never take it (it cannot be rendered for it): it leaves the outbox.
 */
export type Offered = 'accepted' | 'retry' | 'rejected';

export interface Receiver {
  /**
   * Offers one item. Settles once, when the outcome is known: a receiver that answers late may
   * settle after its own timeout (a late acceptance still counts, so the item is not sent twice).
   */
  offer(item: OutboxItem): Promise<Offered>;
}

/** An account's receivers. */
export interface Receivers {
  /** A receiver of the account with room for one more item now (round-robin among them), or undefined. */
  next(accountId: number): Receiver | undefined;
  /** `listener` is called when an account may have a receiver with room again (one bound, say). */
  onAvailable(listener: (accountId: number) => void): void;
}
