// Delivers outbox items (receipts, MOs) to the account's receivers (messages/receiver.ts: SMPP
// sessions today), round-robin as the receivers choose. An item leaves the outbox when a receiver
// accepts it (or can never take it); refused, unanswered or with no receiver it waits and is offered
// again with backoff, until its TTL runs out. While the store cannot record a delivery nothing is
// offered (an item delivered and not removed would go twice).
//
// Memory is bounded: each account holds at most `maxInMemory` items here (queued, in flight or
// waiting to retry). Past that, new items stay only in the outbox table (they are committed before
// they reach us), and once the account's items here are all gone the next page is read from the
// table. An account that never reads its receipts therefore costs a page, not its backlog.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { TimerQueue } from '../rate/timer-queue.js';
import { Fifo } from '../util/fifo.js';
import type { GroupCommit } from '../store/group-commit.js';
import { logWriteError } from '../store/health.js';
import type { Outbox, OutboxItem } from '../store/outbox.js';
import type { Offered, Receiver, Receivers } from './receiver.js';

export interface OutboxDeliveryOptions {
  clock: Clock;
  commit: GroupCommit;
  outbox: Outbox;
  receivers: Receivers;
  metrics: Metrics;
  logger: Logger;
  /** First retry delay after a failed delivery; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** The system_id of an account id, for metrics and logs. */
  name: (accountId: number) => string;
  /** Items an account may hold in memory (default 1,000); the rest wait in the table. */
  maxInMemory?: number;
  /** Wall-clock time (TTLs are stored as wall-clock times). */
  now?: () => number;
}

interface AccountOutbox {
  /** Ready to send. */
  queue: Fifo<OutboxItem>;
  /** Ids held here (queued, in flight, waiting to retry, or being removed). */
  held: Set<number>;
  /** The table holds items of this account that are not held here. */
  spilled: boolean;
  /** Items in the table, and of those sent and not yet back or removed (for status). */
  stored: number;
  outstanding: number;
}

export class OutboxDelivery {
  private readonly accounts = new Map<number, AccountOutbox>();
  /** Items delivered (an OK, on time or late) whose other attempt may still be queued or waiting: skipped. */
  private readonly done = new WeakSet<OutboxItem>();
  private readonly timers: TimerQueue;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxInMemory: number;
  /**
   * The highest id that has been through enqueue(). Pages are read only up to it: an item
   * committed but not yet handed to enqueue() (its promise has not settled) is not paged in twice.
   */
  private seenId = 0;
  /** The store cannot record deliveries now: nothing is sent (a delivery not removed would go twice). */
  private paused = false;

  constructor(private readonly o: OutboxDeliveryOptions) {
    this.log = o.logger.child({ part: 'outbox' });
    this.timers = new TimerQueue(o.clock, (err) => this.log.error({ err: String(err) }, 'outbox retry failed'));
    this.now = o.now ?? Date.now;
    this.maxInMemory = o.maxInMemory ?? 1_000;
    o.receivers.onAvailable((account) => this.pump(account));
  }

  /** Items held in memory (all of them are in the outbox table too). */
  get size(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.held.size;
    return n;
  }

  /** Items waiting per account, by system_id (in the table, not on their way to a receiver). */
  countByAccount(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [account, a] of this.accounts) if (a.stored - a.outstanding > 0) out[this.o.name(account)] = a.stored - a.outstanding;
    return out;
  }

  /**
   * The account was removed (its outbox rows purged with it): what is held of it here goes, and
   * nothing of it is sent again.
   */
  forget(accountId: number): void {
    const a = this.accounts.get(accountId);
    if (!a) return;
    this.accounts.delete(accountId);
    a.queue.drain();
  }

  /** At start: everything the table holds waits, and the first page of each account is read. */
  resume(): number {
    this.seenId = Math.max(this.seenId, this.o.outbox.maxId());
    let total = 0;
    for (const [account, n] of this.o.outbox.countByAccount()) {
      const a = this.account(account);
      a.stored += n;
      a.spilled = true;
      total += n;
      this.refill(account, a);
    }
    return total;
  }

  /** New items, committed: held here while there is room, otherwise left in the table. */
  enqueue(items: readonly OutboxItem[]): void {
    const touched = new Set<number>();
    for (const item of items) {
      if (item.id > this.seenId) this.seenId = item.id;
      const a = this.account(item.accountId);
      a.stored++;
      if (a.held.has(item.id)) continue; // a page read it from the table first
      if (a.spilled || a.held.size >= this.maxInMemory) {
        a.spilled = true;
        continue;
      }
      a.held.add(item.id);
      a.queue.push(item);
      touched.add(item.accountId);
    }
    for (const account of touched) this.pump(account);
  }

  /** The store cannot record a delivery (disk full, locked, lost): hold everything; `false` sends again. */
  pauseSending(pause: boolean): void {
    this.paused = pause;
    if (!pause) for (const account of this.accounts.keys()) this.pump(account);
  }

  /** Sends what the account's receivers can take now. */
  pump(account: number): void {
    const a = this.accounts.get(account);
    if (!a || this.paused) return;
    while (a.queue.length > 0) {
      const receiver = this.o.receivers.next(account);
      if (!receiver) return;
      const item = a.queue.shift()!;
      if (this.done.has(item)) continue;
      if (item.expiresAt <= this.now()) {
        this.expire(a, item);
        continue;
      }
      this.send(receiver, a, item);
    }
  }

  /** Drops items whose TTL ran out while their account was away (called periodically). */
  sweep(): void {
    const now = this.now();
    for (const a of this.accounts.values()) {
      const keep = new Fifo<OutboxItem>();
      for (const item of a.queue.drain()) {
        if (item.expiresAt <= now) this.expire(a, item);
        else keep.push(item);
      }
      a.queue = keep;
    }
    // Expired items that only the table holds: a page at a time, counted, logged once per account.
    const dropped = new Map<number, AccountOutbox>();
    const gone: OutboxItem[] = [];
    for (const item of this.o.outbox.expired(now, 5_000)) {
      const a = this.account(item.accountId);
      if (a.held.has(item.id)) continue;
      a.held.add(item.id); // until its removal is committed: no page may read it again
      gone.push(item);
      dropped.set(item.accountId, a);
    }
    if (gone.length === 0) return;
    for (const item of gone) this.o.metrics.outboxExpired.inc({ account: this.o.name(item.accountId), kind: item.kind });
    const perAccount: Record<string, number> = {};
    for (const item of gone) perAccount[this.o.name(item.accountId)] = (perAccount[this.o.name(item.accountId)] ?? 0) + 1;
    this.log.warn({ expired: perAccount }, 'outbox items expired undelivered');
    this.o.commit
      .run(() => {
        for (const item of gone) this.o.outbox.remove(item.id);
      })
      .then(
        () => {
          for (const item of gone) this.removed(dropped.get(item.accountId)!, item.accountId, item.id, true);
        },
        (err: Error) => {
          // Still in the table: let them be read (and expired) again.
          logWriteError(this.log, err, {}, 'could not remove expired outbox items');
          for (const item of gone) this.removed(dropped.get(item.accountId)!, item.accountId, item.id, false);
        },
      );
  }

  stop(): void {
    this.timers.clear();
  }

  private account(account: number): AccountOutbox {
    let a = this.accounts.get(account);
    if (!a) this.accounts.set(account, (a = { queue: new Fifo(), held: new Set(), spilled: false, stored: 0, outstanding: 0 }));
    return a;
  }

  /** Reads the account's next page from the table, once nothing of it is held here. */
  private refill(account: number, a: AccountOutbox): void {
    if (!a.spilled || a.held.size > 0) return;
    const page = this.o.outbox.page(account, this.seenId, this.maxInMemory);
    a.spilled = page.length === this.maxInMemory;
    for (const item of page) {
      a.held.add(item.id);
      a.queue.push(item);
    }
    this.pump(account);
  }

  /** An item is no longer held here: its removal from the table committed (`gone`), or failed. */
  private removed(a: AccountOutbox, account: number, id: number, gone: boolean): void {
    a.held.delete(id);
    if (gone) a.stored--;
    else a.spilled = true; // still in the table: a later page reads it again
    this.refill(account, a);
  }

  private send(receiver: Receiver, a: AccountOutbox, item: OutboxItem): void {
    a.outstanding++;
    receiver.offer(item).then(
      (outcome) => this.settled(a, item, outcome),
      (err: unknown) => {
        this.log.error({ account: this.o.name(item.accountId), item: item.id, err: String(err) }, 'receiver failed; will retry');
        this.settled(a, item, 'retry');
      },
    );
  }

  /** An offer's outcome: delivered, dropped, or offered again later. */
  private settled(a: AccountOutbox, item: OutboxItem, outcome: Offered): void {
    if (outcome === 'accepted') {
      this.delivered(a, item);
    } else if (this.done.has(item)) {
      a.outstanding--;
    } else if (outcome === 'rejected') {
      // No receiver of this kind can take it: it goes (logged by the receiver).
      a.outstanding--;
      this.done.add(item);
      this.o.commit
        .run(() => this.o.outbox.remove(item.id))
        .then(
          () => this.removed(a, item.accountId, item.id, true),
          () => this.removed(a, item.accountId, item.id, false),
        );
    } else {
      a.outstanding--;
      this.retry(a, item);
    }
    this.pump(item.accountId);
  }

  /** The account's OK: the item leaves the table (once, whichever attempt's OK came first). */
  private delivered(a: AccountOutbox, item: OutboxItem): void {
    if (this.done.has(item)) {
      a.outstanding--;
      return;
    }
    this.done.add(item);
    this.o.metrics.outboxDelivered.inc({ account: this.o.name(item.accountId), kind: item.kind });
    this.o.commit
      .run(() => this.o.outbox.remove(item.id))
      .then(
        () => {
          a.outstanding--;
          this.removed(a, item.accountId, item.id, true);
        },
        (err: Error) => {
          // Still in the table: it will be read and delivered again (a duplicate, not a loss).
          logWriteError(this.log, err, { item: item.id }, 'could not remove a delivered outbox item');
          a.outstanding--;
          this.removed(a, item.accountId, item.id, false);
        },
      );
  }

  private retry(a: AccountOutbox, item: OutboxItem): void {
    const delay = Math.min(this.o.maxRetryMs ?? 60_000, (this.o.retryMs ?? 1_000) * 2 ** Math.min(16, item.attempts));
    item.attempts++;
    const nextAt = this.now() + delay;
    item.nextAt = nextAt;
    this.o.commit
      .run(() => this.o.outbox.retry(item.id, nextAt))
      .catch((err: Error) => logWriteError(this.log, err, { item: item.id }, 'could not record outbox retry'));
    // Still held: it goes back to the queue after the delay.
    this.timers.add(delay, () => {
      if (this.done.has(item) || !a.held.has(item.id)) return; // a late OK delivered it meanwhile
      a.queue.push(item);
      this.pump(item.accountId);
    });
  }

  private expire(a: AccountOutbox, item: OutboxItem): void {
    this.o.metrics.outboxExpired.inc({ account: this.o.name(item.accountId), kind: item.kind });
    this.log.warn({ account: this.o.name(item.accountId), kind: item.kind, item: item.id, messageId: item.messageId }, 'outbox item expired undelivered');
    this.o.commit
      .run(() => this.o.outbox.remove(item.id))
      .then(
        () => this.removed(a, item.accountId, item.id, true),
        (err: Error) => {
          logWriteError(this.log, err, { item: item.id }, 'could not remove an expired outbox item');
          this.removed(a, item.accountId, item.id, false);
        },
      );
  }
}
