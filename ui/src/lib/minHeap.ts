// A binary min-heap of items ordered by their `at` (a time): the earliest is at the top.
// The health board (tokenState.ts) keeps its tokens' next health changes in one.

export interface Timed {
  at: number;
}

export class MinHeap<T extends Timed> {
  #a: T[] = [];

  get size(): number {
    return this.#a.length;
  }

  /** The earliest item's time; `Infinity` when empty. */
  peekAt(): number {
    return this.#a.length > 0 ? this.#a[0].at : Infinity;
  }

  push(item: T): void {
    const a = this.#a;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent].at <= item.at) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = item;
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      this.#down(0);
    }
    return top;
  }

  /** Replaces the content with `items` (linear time). */
  rebuild(items: Iterable<T>): void {
    this.#a = [...items];
    for (let i = (this.#a.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #down(i: number): void {
    const a = this.#a;
    const n = a.length;
    const item = a[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && a[child + 1].at < a[child].at) child++;
      if (a[child].at >= item.at) break;
      a[i] = a[child];
      i = child;
    }
    a[i] = item;
  }
}
