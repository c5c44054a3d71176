// A connector's queue: two lanes (priority and normal), each served round-robin across accounts,
// so one account's 100,000 queued promotions delay another's message by a turn, not by the lot.
// While both lanes wait, priority gets PRIORITY_RUN sends of every PRIORITY_RUN + 1 (90 %) and
// normal the rest (10 %). The parts of one message go out one after another: neither the turn nor
// the lane moves on in the middle of a message.
import { Fifo } from '../util/fifo.js';
import type { Outgoing } from './link.js';

/** Sends the priority lane gets in a row while the normal lane waits too. */
export const PRIORITY_RUN = 9;

interface AccountQueue {
  items: Fifo<Outgoing>;
  /** In the turn order, or the one whose message is going out. */
  waiting: boolean;
}

/** One lane: accounts in turn, each its messages in order. */
class Lane {
  /** Kept while empty: accounts are few, and one message at a time must not allocate a queue each. */
  private readonly byAccount = new Map<number, AccountQueue>();
  private readonly turns = new Fifo<AccountQueue>();
  /** The account whose message has parts still to go: served again before the turn moves on. */
  private current: AccountQueue | undefined;
  length = 0;

  get midMessage(): boolean {
    return this.current !== undefined;
  }

  push(msg: Outgoing): void {
    let q = this.byAccount.get(msg.accountId);
    if (q === undefined) this.byAccount.set(msg.accountId, (q = { items: new Fifo(), waiting: false }));
    q.items.push(msg);
    this.length++;
    if (!q.waiting) {
      q.waiting = true;
      this.turns.push(q);
    }
  }

  shift(): Outgoing | undefined {
    const q = this.current ?? this.turns.shift();
    if (q === undefined) return undefined;
    this.current = undefined;
    const msg = q.items.shift()!;
    this.length--;
    const next = q.items.peek();
    if (next === undefined) q.waiting = false;
    else if (msg.msg !== undefined && next.msg === msg.msg) this.current = q;
    else this.turns.push(q);
    return msg;
  }

  /** Submit time of the oldest message waiting here (undefined: none). */
  oldest(): number | undefined {
    let at: number | undefined;
    for (const q of this.byAccount.values()) {
      const head = q.items.peek();
      if (head !== undefined && (at === undefined || head.submittedAt < at)) at = head.submittedAt;
    }
    return at;
  }

  drain(out: Outgoing[]): void {
    for (const q of this.byAccount.values()) {
      for (const msg of q.items.drain()) out.push(msg);
      q.waiting = false;
    }
    this.turns.drain();
    this.current = undefined;
    this.length = 0;
  }
}

export class FairQueue {
  private readonly priority = new Lane();
  private readonly normal = new Lane();
  /** Priority sends since the normal lane was last served. */
  private priorityRun = 0;

  get length(): number {
    return this.priority.length + this.normal.length;
  }

  push(msg: Outgoing): void {
    (msg.priority === true ? this.priority : this.normal).push(msg);
  }

  shift(): Outgoing | undefined {
    const lane = this.nextLane();
    if (lane === this.priority) this.priorityRun = Math.min(this.priorityRun + 1, PRIORITY_RUN);
    else this.priorityRun = 0;
    return lane.shift();
  }

  /** Submit time of the oldest message waiting in a lane (undefined: none). */
  oldest(priority: boolean): number | undefined {
    return (priority ? this.priority : this.normal).oldest();
  }

  /** Takes everything out (each account's messages in order). */
  drain(): Outgoing[] {
    const out: Outgoing[] = [];
    this.priority.drain(out);
    this.normal.drain(out);
    return out;
  }

  private nextLane(): Lane {
    if (this.priority.midMessage) return this.priority;
    if (this.normal.midMessage) return this.normal;
    if (this.priority.length === 0) return this.normal;
    if (this.normal.length === 0 || this.priorityRun < PRIORITY_RUN) return this.priority;
    return this.normal;
  }
}
