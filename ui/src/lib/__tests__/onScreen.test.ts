import { describe, expect, it } from 'vitest';
import { whenDrawn, type Page } from '../onScreen';

/** A page whose animation frames the test draws. */
function page(visibilityState: DocumentVisibilityState) {
  let waiting: (() => void)[] = [];
  const p: Page & { draw(): void } = {
    visibilityState,
    requestAnimationFrame: (f) => waiting.push(f),
    draw() {
      const due = waiting;
      waiting = [];
      due.forEach((f) => f());
    },
  };
  return p;
}

/** `whenDrawn` called on a page of the test's: how many times it ran `f` so far. */
function drawnOn(visibilityState: DocumentVisibilityState) {
  const p = page(visibilityState);
  let ran = 0;
  whenDrawn(() => ran++, p);
  return { draw: () => p.draw(), ran: () => ran };
}

describe('whenDrawn', () => {
  it('waits for the second animation frame: the first runs before the frame is drawn', () => {
    const p = drawnOn('visible');
    expect(p.ran()).toBe(0);
    p.draw();
    expect(p.ran()).toBe(0);
    p.draw();
    expect(p.ran()).toBe(1);
    p.draw();
    expect(p.ran()).toBe(1);
  });

  it('runs at once in a page that is not on screen: a window started in the tray gets no frames', () => {
    const p = drawnOn('hidden');
    expect(p.ran()).toBe(1);
    p.draw();
    expect(p.ran()).toBe(1);
  });
});
