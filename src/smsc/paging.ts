// Memory paging: the messages held in memory (queued, on the wire or waiting to retry) are at most
// maxHeld; past it, accepted messages stay only in the ledger (state queued) and are paged in,
// oldest first, as held ones leave. A message that left memory and whose new state is not
// committed yet ("settling") is never paged in again.
import type { Logger } from '../log.js';
import type { Ledger } from '../store/ledger.js';
import type { Outgoing } from './link.js';

export type PagingLedger = Pick<Ledger, 'queuedPage' | 'countQueued' | 'maxId'>;

export class Paging {
  /** Messages here that no carrier has accepted yet. */
  private readonly held = new Map<number, Outgoing>();
  private readonly settling = new Set<number>();
  /**
   * The lowest id that may be waiting in the ledger only (undefined: none); `seenId` the highest
   * id handed to admit(), so a page never reads a message whose hand-over is still on its way.
   */
  private spillFrom: number | undefined;
  private seenId = 0;

  constructor(
    private readonly ledger: PagingLedger,
    private readonly maxHeld: number,
    /** Takes a message paged in (it is held already). */
    private readonly send: (msg: Outgoing) => void,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.held.size;
  }

  /** A newly accepted message: true if it is to be held and sent now; false: it waits in the ledger. */
  admit(msg: Outgoing): boolean {
    if (msg.id > this.seenId) this.seenId = msg.id;
    if (this.spillFrom === undefined && this.held.size < this.maxHeld) return true;
    if (this.spillFrom === undefined || msg.id < this.spillFrom) {
      if (this.spillFrom === undefined) this.log.warn({ held: this.held.size }, 'messages held in memory at the limit; new ones wait in the ledger');
      this.spillFrom = msg.id;
    }
    return false;
  }

  /** At start: every message queued in the ledger waits there, paged in a page at a time. Returns how many. */
  resume(): number {
    this.seenId = Math.max(this.seenId, this.ledger.maxId());
    const n = this.ledger.countQueued();
    if (n > 0) {
      this.spillFrom = 0;
      this.refill();
    }
    return n;
  }

  hold(msg: Outgoing): void {
    this.held.set(msg.id, msg);
  }

  get(id: number): Outgoing | undefined {
    return this.held.get(id);
  }

  /** Held here, or gone and not yet recorded. */
  busy(id: number): boolean {
    return this.held.has(id) || this.settling.has(id);
  }

  values(): IterableIterator<Outgoing> {
    return this.held.values();
  }

  /** Leaves memory without a record to wait for (purged with its account, or left in the ledger until due). */
  forget(id: number): void {
    this.held.delete(id);
  }

  /** `msg` left memory; `recorded` settles once its new state is committed. */
  release(msg: Outgoing, recorded: Promise<unknown>): void {
    this.held.delete(msg.id);
    this.keepOut(msg.id, recorded);
  }

  /** Keeps message `id` (the ledger's only) from being paged in until `work` settles. */
  keepOut(id: number, work: Promise<unknown>): void {
    this.settling.add(id);
    void work
      .catch(() => undefined)
      .finally(() => {
        this.settling.delete(id);
        this.refill();
      });
  }

  /** Pages queued messages in from the ledger while there is room (half the limit free). */
  refill(): void {
    if (this.spillFrom === undefined || this.held.size > this.maxHeld / 2) return;
    const room = this.maxHeld - this.held.size;
    const page = this.ledger.queuedPage(this.spillFrom, this.seenId, room);
    this.spillFrom = page.length < room ? undefined : page[page.length - 1]!.id + 1;
    for (const m of page) {
      if (this.busy(m.id)) continue;
      // Due later than its submit: scheduled, or waiting to retry.
      const msg: Outgoing = { ...m, tried: 0, dueAt: m.nextAt > m.submittedAt ? m.nextAt : undefined };
      this.held.set(msg.id, msg);
      this.send(msg);
    }
    if (this.spillFrom === undefined) this.log.info({ held: this.held.size }, 'every queued message is held in memory again');
  }
}
