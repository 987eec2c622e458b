// The arithmetic of the virtualised list (components/VirtualList.svelte), apart so it is tested
// without a layout engine.

/**
 * The items to render: those overlapping [top, top + height) of the list, plus `overscan` on
 * each side. `offsets[i]` is item i's top and `offsets[n]` the list's height (ascending).
 * Returns [start, end).
 */
export function rangeFor(offsets: ArrayLike<number>, top: number, height: number, overscan: number): [number, number] {
  const n = offsets.length - 1;
  if (n <= 0) return [0, 0];
  const first = itemAt(offsets, top);
  // The bottom edge is exclusive: an item starting exactly there is not in view.
  const last = itemAt(offsets, top + Math.max(height - 0.5, 0));
  return [Math.max(0, first - overscan), Math.min(n, last + 1 + overscan)];
}

/** The item at `y` (binary search), clamped to [0, n - 1]. */
export function itemAt(offsets: ArrayLike<number>, y: number): number {
  const n = offsets.length - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(0, lo);
}

/** The nearest ancestor that scrolls vertically, or null for the window. */
export function findScroller(node: HTMLElement): HTMLElement | null {
  for (let e = node.parentElement; e; e = e.parentElement) {
    const y = getComputedStyle(e).overflowY;
    if (y === 'auto' || y === 'scroll' || y === 'overlay') return e;
  }
  return null;
}
