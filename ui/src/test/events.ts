// Token-history events for the timeline and history tests.
import type { TokenEvent } from '../lib/bindings/TokenEvent';

export const T0 = Date.UTC(2025, 4, 12, 9, 0, 0);
export const MIN = 60_000;

export function makeEvent(over: Partial<TokenEvent> = {}): TokenEvent {
  return {
    id: 1,
    profile_id: 'p1',
    at: T0,
    kind: 'refresh',
    trigger: 'manual',
    method: 'refresh_token',
    outcome: 'success',
    duration_ms: 120,
    access_expires_at: T0 + 60 * MIN,
    refresh_expires_at: null,
    refresh_count: null,
    rotated: false,
    error_code: null,
    error_message: null,
    exchange_id: null,
    ...over,
  };
}

/** A sign-in, its refresh, a new sign-in that replaces it, a failed refresh (newest first, as the core answers). */
export function signInStory(): TokenEvent[] {
  return [
    makeEvent({
      id: 4,
      at: T0 + 25 * MIN,
      outcome: 'failure',
      access_expires_at: null,
      error_code: 'invalid_grant',
      error_message: 'The provider refused the refresh token (invalid_grant): it was revoked or has expired. Sign in again.',
      exchange_id: 41,
    }),
    makeEvent({ id: 3, at: T0 + 20 * MIN, kind: 'acquisition', method: 'authorization_code', access_expires_at: T0 + 80 * MIN, exchange_id: 31 }),
    makeEvent({ id: 2, at: T0 + 10 * MIN, access_expires_at: T0 + 70 * MIN, rotated: true, exchange_id: 21 }),
    makeEvent({ id: 1, at: T0, kind: 'acquisition', method: 'authorization_code', exchange_id: 11 }),
  ];
}
