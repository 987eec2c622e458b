// What state a token set is in at a given time — the same rules as the core's
// `TokenSet::state` — plus the UI's "expiring" shade and "none" for a profile without a token.

import type { TokenSet } from './bindings/TokenSet';
import { interactive } from './grants';
import type { TokenState } from './bindings/TokenState';
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

/**
 * The health of every token, recomputed only when a token changes or the clock crosses the
 * earliest moment at which some token's health can change. Between those moments `get` hands
 * back the same Map, so a clock tick costs one comparison, not one per token.
 */
export class HealthBoard {
  #tokens: readonly TokenSet[] | null = null;
  #map = new Map<string, Health>();
  #from = -Infinity;
  #until = -Infinity;

  /** Whether the health computed last may be out of date at `now`. */
  stale(now: number): boolean {
    return now < this.#from || now >= this.#until;
  }

  get(tokens: readonly TokenSet[], now: number): Map<string, Health> {
    if (tokens === this.#tokens && !this.stale(now)) return this.#map;
    const map = new Map<string, Health>();
    let until = Infinity;
    for (const t of tokens) {
      map.set(t.profile_id, tokenHealth(t, now));
      until = Math.min(until, nextHealthChange(t, now));
    }
    this.#tokens = tokens;
    this.#from = now;
    this.#until = until;
    this.#map = map;
    return map;
  }

  /**
   * As `get`, for `tokens` that differ from the last ones given only in `changed` (new or
   * replaced token sets) and `removed` (profile ids): only those are worked out. Returns `false`
   * when every token had to be worked out again instead (the clock crossed a moment at which
   * some health changes, or there were no tokens before): then any health may have changed.
   */
  update(tokens: readonly TokenSet[], changed: readonly TokenSet[], removed: readonly string[], now: number): boolean {
    if (this.#tokens === null || this.stale(now)) {
      this.get(tokens, now);
      return false;
    }
    for (const id of removed) this.#map.delete(id);
    for (const t of changed) {
      this.#map.set(t.profile_id, tokenHealth(t, now));
      this.#until = Math.min(this.#until, nextHealthChange(t, now));
    }
    // A removed token's moment stays in `until`: at worst one recompute early.
    this.#tokens = tokens;
    this.#from = now;
    return true;
  }
}
