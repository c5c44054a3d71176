// A first-in first-out queue with O(1) push and shift (Array#shift is O(n) on long arrays).
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The head, left in place. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** The items in order, without removing them. */
  toArray(): T[] {
    return this.items.slice(this.head) as T[];
  }

  /** Removes and returns everything, in order. */
  drain(): T[] {
    const out = this.toArray();
    this.items = [];
    this.head = 0;
    return out;
  }
}
