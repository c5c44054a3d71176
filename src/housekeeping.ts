// Periodic jobs: expiry of messages and outbox items, retention of final messages, and dropping
// message text once it is no longer needed. Each runs on its own interval and never throws into the
// event loop; bulk deletes and updates run in chunks with the event loop free between them, and
// only while the store takes writes.
import type { Config } from './config.js';
import { MessageState } from './smpp/message-state.js';
import type { ReceiptService } from './dlr/service.js';
import type { OutboxDelivery } from './messages/outbox-delivery.js';
import type { Logger } from './log.js';
import type { Dispatcher } from './smsc/dispatcher.js';
import { logWriteError } from './store/health.js';
import type { Ledger } from './store/ledger.js';

/** Rows one step of pruning handles before the event loop gets a turn. */
const CHUNK = 5_000;
/**
 * Rows one step of body dropping handles: it runs every few seconds beside live traffic, and 5,000
 * row rewrites at once held the event loop long enough to double the submit p99 at half load.
 */
const BODY_CHUNK = 500;

export interface HousekeepingOptions {
  config: Pick<Config, 'store' | 'messages'>;
  logger: Logger;
  ledger: Ledger;
  dispatcher: Dispatcher;
  delivery: OutboxDelivery;
  receipts: ReceiptService;
  /** Bulk work waits while this is false (starting, stopping, the store failing). */
  canWrite: () => boolean;
}

export class Housekeeping {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: HousekeepingOptions) {}

  start(): void {
    const { config, logger: log, ledger, dispatcher, delivery, receipts } = this.o;
    this.every(config.messages.sweepMs, () => delivery.sweep());
    // Past its validity a message ends EXPIRED, with the receipt the account asked for: one still
    // queued (its connectors down), and one a carrier took but never sent a receipt for.
    this.every(config.messages.sweepMs, () => {
      const expired = dispatcher.expireQueued();
      if (expired > 0) log.info({ expired }, 'queued messages expired before a carrier took them');
      for (const record of ledger.unanswered(Date.now(), 1_000)) {
        receipts
          .recordFinal(record, MessageState.EXPIRED, null, null)
          .catch((err: Error) => logWriteError(log, err, { msgId: record.id }, 'could not expire a message'));
      }
    });
    // Retention; a receipt parked for an hour will not find its message any more.
    this.every(60_000, () => {
      const cut = Date.now() - config.store.retentionHours * 3_600_000;
      this.chunked(
        'pruning',
        CHUNK,
        () => ledger.prune(cut, CHUNK, Date.now() - 3_600_000),
        (pruned) => log.info({ pruned }, 'pruned final messages past retention'),
      );
    });
    // Privacy: the text of final messages goes after store.bodyRetentionHours (0: within seconds).
    this.every(Math.min(5_000, config.messages.sweepMs), () => {
      const cut = Date.now() - config.store.bodyRetentionHours * 3_600_000;
      this.chunked(
        'dropping message bodies',
        BODY_CHUNK,
        () => ledger.dropBodies(cut, Date.now(), BODY_CHUNK),
        (dropped) => log.debug({ dropped }, 'dropped the bodies of final messages'),
      );
    });
  }

  /** Runs `fn` every `ms` (the process may exit meanwhile); a throw is logged, not raised. */
  every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'periodic task failed');
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /**
   * Runs `step` (rows handled, at most `chunk`) again and again while it fills a chunk, with the
   * event loop free between chunks; `done` hears the total when there was any. A failure is logged.
   */
  private chunked(what: string, chunkSize: number, step: () => number, done: (total: number) => void): void {
    let total = 0;
    const chunk = () => {
      let n = 0;
      try {
        n = this.o.canWrite() ? step() : 0;
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, `${what} failed; trying again later`);
      }
      total += n;
      if (n === chunkSize) setImmediate(chunk);
      else if (total > 0) done(total);
    };
    chunk();
  }
}
