// When what the page has drawn is on screen. The build's loader (build/firstFrame.ts) waits the
// same way before it starts the app's scripts.

/** What [`whenDrawn`] reads of the page: its visibility and its animation frames. */
export interface Page {
  readonly visibilityState: DocumentVisibilityState;
  requestAnimationFrame(callback: () => void): unknown;
}

const thisPage: Page = {
  get visibilityState() {
    return document.visibilityState;
  },
  requestAnimationFrame: (callback) => requestAnimationFrame(callback),
};

/** Runs `f` once what the page has drawn so far is on screen: at the second animation frame
 *  (WebKit runs it once its compositor has drawn the first). A page that is not on screen (a
 *  window started hidden, in the tray) gets no animation frames and has nothing to wait for:
 *  `f` runs at once. */
export function whenDrawn(f: () => void, page: Page = thisPage): void {
  if (page.visibilityState === 'hidden') f();
  else page.requestAnimationFrame(() => page.requestAnimationFrame(f));
}
