// Receivers for in-process tests of outbox delivery: each takes `room` items at a time and records
// what it was offered; the test settles each offer by hand.
import type { Offered, Receiver, Receivers } from '../../src/messages/receiver.js';
import type { OutboxItem } from '../../src/store/outbox.js';

export class TestReceiver implements Receiver {
  /** Every offer, in order, with its settle function. */
  readonly offers: Array<{ item: OutboxItem; settle: (o: Offered) => void }> = [];
  outstanding = 0;

  constructor(
    readonly name: string,
    public room = 1,
  ) {}

  offer(item: OutboxItem): Promise<Offered> {
    this.outstanding++;
    return new Promise((resolve) => {
      this.offers.push({
        item,
        settle: (o) => {
          this.outstanding--;
          resolve(o);
        },
      });
    });
  }

  /** Texts (MO bodies) of everything offered, in order. */
  get texts(): string[] {
    return this.offers.map((o) => o.item.body.toString());
  }

  /** Settles the oldest offer not yet settled. */
  answer(outcome: Offered): void {
    const next = this.offers[this.offers.length - this.outstanding];
    if (!next) throw new Error(`${this.name} has nothing to answer`);
    next.settle(outcome);
  }
}

/** An account's test receivers, round-robin among those with room. */
export class TestReceivers implements Receivers {
  private readonly byAccount = new Map<number, TestReceiver[]>();
  private readonly cursor = new Map<number, number>();
  private readonly listeners: Array<(account: number) => void> = [];

  /** Adds a receiver to the account and says so (as a bind would). */
  bind(account: number, r: TestReceiver): TestReceiver {
    this.byAccount.set(account, [...(this.byAccount.get(account) ?? []), r]);
    for (const l of this.listeners) l(account);
    return r;
  }

  unbind(account: number, r: TestReceiver): void {
    this.byAccount.set(
      account,
      (this.byAccount.get(account) ?? []).filter((x) => x !== r),
    );
  }

  next(account: number): Receiver | undefined {
    const list = this.byAccount.get(account) ?? [];
    const start = this.cursor.get(account) ?? 0;
    for (let k = 0; k < list.length; k++) {
      const i = (start + k) % list.length;
      if (list[i]!.outstanding < list[i]!.room) {
        this.cursor.set(account, i + 1);
        return list[i];
      }
    }
    return undefined;
  }

  onAvailable(listener: (account: number) => void): void {
    this.listeners.push(listener);
  }
}

/** Lets promise callbacks (offers' outcomes, commits) run. */
export const settle = () => new Promise((r) => setImmediate(r));
