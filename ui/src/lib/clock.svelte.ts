// The one shared clock every countdown reads. A single timer, aligned to the wall-clock second,
// moves one `now` rune; each countdown derives its text and bar from it, so a tick costs a few
// text and transform updates per row and no row re-renders.
//
// Reading `now` is a plain signal read (it runs 1000× per tick with 500 tokens): the timer starts
// on the first read and keeps running; tests and the benchmark freeze it with `set()`.

export class Clock {
  #now = $state(Date.now());
  #frozen = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;

  /** The current time in epoch milliseconds, updated once a second. */
  get now(): number {
    if (!this.#running) this.start();
    return this.#now;
  }

  /** Whether ticks are suspended (tests and the benchmark drive the clock by hand). */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** Starts ticking (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#onVisible);
    this.#schedule();
  }

  /** Stops ticking; the next read starts again. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.#onVisible);
  }

  /** Sets `now` by hand and stops the automatic ticks until `resume()`. */
  set(ms: number): void {
    this.#frozen = true;
    this.#now = ms;
  }

  /** Moves a frozen clock forward. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** Back to real time. */
  resume(): void {
    this.#frozen = false;
    this.#tick();
  }

  #onVisible = () => {
    // Timers are throttled in hidden windows: catch up at once when shown again.
    if (document.visibilityState === 'visible') this.#tick();
  };

  #tick = () => {
    if (!this.#frozen) this.#now = Date.now();
    this.#schedule();
  };

  #schedule() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#running) return;
    // Wake just after the next second boundary so every countdown changes together.
    const delay = 1000 - (Date.now() % 1000) + 2;
    this.#timer = setTimeout(this.#tick, delay);
  }
}

/** The app's shared clock. */
export const clock = new Clock();
