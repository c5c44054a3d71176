// Delivers outbox items (receipts, MOs) to the account's bound receivers, round-robin. An item
// leaves the outbox on deliver_sm_resp OK; on an error, a timeout or no bound receiver it waits
// and is tried again with backoff, until its TTL runs out.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { TimerQueue } from '../rate/timer-queue.js';
import { decode } from '../smpp/codec.js';
import { Fifo } from '../smpp/fifo.js';
import type { PduOf } from '../smpp/pdu.js';
import type { Session } from '../smpp/session.js';
import type { GroupCommit } from '../store/group-commit.js';
import type { Outbox, OutboxItem } from '../store/outbox.js';
import type { BindRegistry } from './registry.js';

export interface OutboxDeliveryOptions {
  clock: Clock;
  commit: GroupCommit;
  outbox: Outbox;
  registry: BindRegistry;
  metrics: Metrics;
  logger: Logger;
  /** First retry delay after a failed delivery; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Wall-clock time (TTLs are stored as wall-clock times). */
  now?: () => number;
}

export class OutboxDelivery {
  private readonly queues = new Map<string, Fifo<OutboxItem>>();
  private readonly timers: TimerQueue;
  private readonly log: Logger;
  private readonly now: () => number;
  private waiting = 0;

  constructor(private readonly o: OutboxDeliveryOptions) {
    this.log = o.logger.child({ part: 'outbox' });
    this.timers = new TimerQueue(o.clock, (err) => this.log.error({ err: String(err) }, 'outbox retry failed'));
    this.now = o.now ?? Date.now;
  }

  /** Items waiting in memory (all of them are in the outbox table too). */
  get size(): number {
    return this.waiting;
  }

  countByAccount(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [account, q] of this.queues) if (q.length > 0) out[account] = q.length;
    return out;
  }

  enqueue(items: readonly OutboxItem[]): void {
    const touched = new Set<string>();
    for (const item of items) {
      let q = this.queues.get(item.account);
      if (!q) this.queues.set(item.account, (q = new Fifo()));
      q.push(item);
      this.waiting++;
      touched.add(item.account);
    }
    for (const account of touched) this.pump(account);
  }

  /** Sends what the account's receivers can take now. */
  pump(account: string): void {
    const q = this.queues.get(account);
    if (!q) return;
    while (q.length > 0) {
      const session = this.o.registry.nextReceiver(account);
      if (!session) return;
      const item = q.shift()!;
      this.waiting--;
      if (item.expiresAt <= this.now()) {
        this.expire(item);
        continue;
      }
      this.send(session, item);
    }
  }

  /** Drops items whose TTL ran out while their account was away (called periodically). */
  sweep(): void {
    const now = this.now();
    for (const [account, q] of this.queues) {
      const keep = new Fifo<OutboxItem>();
      for (const item of q.drain()) {
        if (item.expiresAt <= now) {
          this.waiting--;
          this.expire(item);
        } else keep.push(item);
      }
      this.queues.set(account, keep);
    }
  }

  stop(): void {
    this.timers.clear();
  }

  private send(session: Session, item: OutboxItem): void {
    const pdu = decode(item.pdu) as PduOf<'deliver_sm'>;
    session.request(pdu).then(
      (resp) => {
        if (resp.command_status === 0) {
          this.o.metrics.outboxDelivered.inc({ account: item.account, kind: item.kind });
          this.o.commit.run(() => this.o.outbox.remove(item.id)).catch((err: Error) => this.log.error({ err: err.message }, 'could not remove a delivered outbox item'));
        } else {
          this.log.debug({ account: item.account, status: resp.command_status, item: item.id }, 'account refused deliver_sm; will retry');
          this.retry(item);
        }
        this.pump(item.account);
      },
      () => {
        this.retry(item);
        this.pump(item.account);
      },
    );
  }

  private retry(item: OutboxItem): void {
    const delay = Math.min(this.o.maxRetryMs ?? 60_000, (this.o.retryMs ?? 1_000) * 2 ** Math.min(16, item.attempts));
    item.attempts++;
    const nextAt = this.now() + delay;
    item.nextAt = nextAt;
    this.o.commit.run(() => this.o.outbox.retry(item.id, nextAt)).catch((err: Error) => this.log.error({ err: err.message }, 'could not record outbox retry'));
    this.timers.add(delay, () => this.enqueue([item]));
  }

  private expire(item: OutboxItem): void {
    this.o.metrics.outboxExpired.inc({ account: item.account, kind: item.kind });
    this.log.warn({ account: item.account, kind: item.kind, item: item.id, messageId: item.messageId }, 'outbox item expired undelivered');
    this.o.commit.run(() => this.o.outbox.remove(item.id)).catch((err: Error) => this.log.error({ err: err.message }, 'could not remove an expired outbox item'));
  }
}
