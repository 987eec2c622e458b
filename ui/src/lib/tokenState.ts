// What state a token set is in at a given time — the same rules as the core's
// `TokenSet::state` — plus the UI's "expiring" shade and "none" for a profile without a token.

import type { TokenSet } from './bindings/TokenSet';
import { interactive } from './grants';
import type { TokenState } from './bindings/TokenState';
import { MinHeap } from './minHeap';
import { remainingFraction, WARN_ABOVE } from './time';

/** The core's state of a token set at `now` (mirrors `TokenSet::state` in tokendesk-core). */
export function tokenState(t: TokenSet, now: number): TokenState {
  if (t.revoked_at !== null) return 'revoked';
  if (t.status !== null && t.status !== '' && t.status.toLowerCase() !== 'approved') {
    return 'not_approved';
  }
  const expired = t.access_expires_at !== null && t.access_expires_at <= now;
  if (!expired) return 'valid';
  const refreshUsable =
    t.refresh !== null && (t.refresh_expires_at === null || t.refresh_expires_at > now);
  if (t.needs_login !== null || (interactive(t.grant) && !refreshUsable)) {
    return 'needs_login';
  }
  return 'expired';
}

/** What a status dot shows. */
export type Health =
  | 'valid'
  | 'expiring'
  | 'expired'
  | 'needs_login'
  | 'not_approved'
  | 'revoked'
  | 'none';

/**
 * The health of a profile's token at `now`: the core's state, with a valid token whose access
 * token has at most a fifth of its lifetime left shown as `expiring`.
 */
export function tokenHealth(t: TokenSet | null | undefined, now: number): Health {
  if (!t) return 'none';
  const state = tokenState(t, now);
  if (state !== 'valid') return state;
  const f = remainingFraction(t.obtained_at, t.access_expires_at, now);
  return f !== null && f <= WARN_ABOVE ? 'expiring' : 'valid';
}

export const HEALTH_LABEL: Record<Health, string> = {
  valid: 'Valid',
  expiring: 'Expiring',
  expired: 'Expired',
  needs_login: 'Needs sign-in',
  not_approved: 'Not approved',
  revoked: 'Revoked',
  none: 'No token',
};

/**
 * The next time after `now` at which `tokenHealth(t, ·)` can change: the "expiring" threshold,
 * the access expiry and the refresh expiry. Padded by 2 ms so that at that time the new state
 * holds without floating-point doubt. `Infinity` when nothing changes any more.
 */
export function nextHealthChange(t: TokenSet, now: number): number {
  let next = Infinity;
  const consider = (b: number | null) => {
    if (b !== null && b > now) next = Math.min(next, Math.floor(b) + 2);
  };
  if (t.access_expires_at !== null) {
    const life = t.access_expires_at - t.obtained_at;
    if (life > 0) consider(t.access_expires_at - WARN_ABOVE * life);
    consider(t.access_expires_at);
  }
  consider(t.refresh_expires_at);
  return next;
}

/** How many tokens are in each health. */
export type HealthCounts = Record<Health, number>;

export const noHealthCounts = (): HealthCounts => ({
  valid: 0,
  expiring: 0,
  expired: 0,
  needs_login: 0,
  not_approved: 0,
  revoked: 0,
  none: 0,
});

/** A token on the board: its health as last worked out, and when that can next change. */
interface Entry {
  id: string;
  token: TokenSet;
  health: Health;
  /** `nextHealthChange(token, ·)` when the health was last worked out (the heap's order). */
  at: number;
  /** The `sync` that last saw this token. */
  mark: number;
}

/**
 * The health of every token, kept up to date incrementally: each token is worked out when it
 * arrives or changes, and again only when the clock reaches the next moment its own health can
 * change (`nextHealthChange`; a queue ordered by those moments). A clock tick costs a look at
 * the queue's head plus the tokens due, whatever the number of tokens. Every health it reports
 * for `now` is `tokenHealth(token, t)` for the last `t` ≤ `now` it was worked out at, which is
 * the same as at `now` (nothing can change before the token's next moment). Tells `onChange`
 * of every health that changes (`undefined`: the token left) and keeps the count per health.
 */
export class HealthBoard {
  #entries = new Map<string, Entry>();
  /** Every entry with a finite next moment, once; replaced and removed entries linger until
   * popped (or compacted away) and are recognised by not being in `#entries` any more. */
  #due = new MinHeap<Entry>();
  /** The time every health on the board holds at. */
  #from = -Infinity;
  #mark = 0;
  #counts = noHealthCounts();
  #onChange: (id: string, health: Health | undefined) => void;

  constructor(onChange: (id: string, health: Health | undefined) => void = () => {}) {
    this.#onChange = onChange;
  }

  /** Whether some health on the board may be out of date at `now` (`advance` has work). */
  stale(now: number): boolean {
    return now < this.#from || this.#due.peekAt() <= now;
  }

  /** A token's health as of the last update; `undefined` when it is not on the board. */
  health(id: string): Health | undefined {
    return this.#entries.get(id)?.health;
  }

  /** Every token's health (a new map; tests, diagnostics). */
  all(): Map<string, Health> {
    return new Map([...this.#entries.values()].map((e) => [e.id, e.health]));
  }

  /** How many tokens are in each health (a copy). */
  counts(): HealthCounts {
    return { ...this.#counts };
  }

  /**
   * Brings the board to `now`: works out again the tokens whose health can have changed since
   * (all of them when the clock went back). Returns whether any health changed.
   */
  advance(now: number): boolean {
    if (now < this.#from) return this.#recomputeAll(now);
    let changed = false;
    while (this.#due.peekAt() <= now) {
      const e = this.#due.pop()!;
      if (this.#entries.get(e.id) !== e) continue; // replaced or removed since it was queued
      if (this.#setHealth(e, tokenHealth(e.token, now))) changed = true;
      this.#schedule(e, now);
    }
    this.#from = now;
    return changed;
  }

  /**
   * The board's tokens now differ from before only in `changed` (new or replaced token sets)
   * and `removed` (profile ids): only those are worked out, besides the tokens due by `now`.
   * Returns whether any health changed (or a token came or left).
   */
  update(changed: readonly TokenSet[], removed: readonly string[], now: number): boolean {
    let any = this.advance(now);
    for (const id of removed) if (this.#remove(id)) any = true;
    for (const t of changed) if (this.#put(t, now)) any = true;
    this.#compact();
    return any;
  }

  /**
   * The board's tokens become `tokens`: a token set not on the board already (the same object)
   * is worked out, a profile absent from `tokens` leaves. Returns whether any health changed
   * (or a token came or left).
   */
  sync(tokens: readonly TokenSet[], now: number): boolean {
    let any = this.advance(now);
    const mark = ++this.#mark;
    for (const t of tokens) {
      const e = this.#entries.get(t.profile_id);
      if (e !== undefined && e.token === t) e.mark = mark;
      else if (this.#put(t, now)) any = true;
    }
    for (const e of this.#entries.values()) if (e.mark !== mark && this.#remove(e.id)) any = true;
    this.#compact();
    return any;
  }

  #schedule(e: Entry, now: number): void {
    e.at = nextHealthChange(e.token, now);
    if (e.at !== Infinity) this.#due.push(e);
  }

  #setHealth(e: Entry, health: Health): boolean {
    if (e.health === health) return false;
    this.#counts[e.health]--;
    this.#counts[health]++;
    e.health = health;
    this.#onChange(e.id, health);
    return true;
  }

  #put(t: TokenSet, now: number): boolean {
    const id = t.profile_id;
    const old = this.#entries.get(id);
    const e: Entry = { id, token: t, health: tokenHealth(t, now), at: Infinity, mark: this.#mark };
    this.#entries.set(id, e);
    this.#schedule(e, now);
    if (old !== undefined) this.#counts[old.health]--;
    this.#counts[e.health]++;
    if (old?.health === e.health) return false;
    this.#onChange(id, e.health);
    return true;
  }

  #remove(id: string): boolean {
    const e = this.#entries.get(id);
    if (e === undefined) return false;
    this.#entries.delete(id);
    this.#counts[e.health]--;
    this.#onChange(id, undefined);
    return true;
  }

  #recomputeAll(now: number): boolean {
    let changed = false;
    for (const e of this.#entries.values()) {
      if (this.#setHealth(e, tokenHealth(e.token, now))) changed = true;
      e.at = nextHealthChange(e.token, now);
    }
    this.#rebuildQueue();
    this.#from = now;
    return changed;
  }

  /** Drops the queue's replaced and removed entries once they outnumber the live ones (a
   * renewed token's old moment may be an hour away). */
  #compact(): void {
    if (this.#due.size > 2 * this.#entries.size + 64) this.#rebuildQueue();
  }

  #rebuildQueue(): void {
    const live: Entry[] = [];
    for (const e of this.#entries.values()) if (e.at !== Infinity) live.push(e);
    this.#due.rebuild(live);
  }
}
