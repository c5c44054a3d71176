// One timer for many delayed jobs (retries, backoffs), as Haraka's timer_queue: jobs kept in a
// min-heap by due time, the clock's single timer armed for the earliest.
import type { Clock, TimerHandle } from '../clock.js';

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
}

export class TimerQueue {
  private heap: Entry[] = [];
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    /** Told of a job that threw; the queue goes on with the others. */
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Runs `fn` after `ms` (errors it throws are the caller's to catch). */
  add(ms: number, fn: () => void): void {
    const e = { at: this.clock.now() + Math.max(0, ms), seq: ++this.seq, fn };
    this.heap.push(e);
    this.up(this.heap.length - 1);
    if (e.at < this.timerAt) this.arm();
  }

  /** Runs every job now, due or not (shutdown), and stops the timer. */
  drain(): void {
    this.stop();
    const all = this.heap.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.heap = [];
    for (const e of all) this.run(e);
  }

  /** Drops every job without running it. */
  clear(): void {
    this.stop();
    this.heap = [];
  }

  private stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(): void {
    this.stop();
    const head = this.heap[0];
    if (head === undefined) return;
    this.timerAt = head.at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, head.at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) this.run(this.pop());
    this.arm();
  }

  private run(e: Entry): void {
    try {
      e.fn();
    } catch (err) {
      this.onError(err);
    }
  }

  private pop(): Entry {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = t;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && this.less(l, m)) m = l;
      if (r < this.heap.length && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
