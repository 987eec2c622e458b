import { describe, expect, it } from 'vitest';
import { eventTitle, lives, ticks, windowOf } from '../timeline';
import { MIN, T0, makeEvent, signInStory } from '../../test/events';

describe('token lives', () => {
  it('runs from an acquisition through its refreshes to the acquisition that replaces it', () => {
    const l = lives(signInStory(), T0 + 30 * MIN);
    expect(l.map((x) => [x.start, x.end, x.ending])).toEqual([
      [T0, T0 + 20 * MIN, 'replaced'],
      [T0 + 20 * MIN, T0 + 80 * MIN, 'live'],
    ]);
    expect(l[0].events.map((e) => e.id)).toEqual([1, 2]);
  });

  it('ends at the expiry when nothing renewed the token in time, and at a revoked refresh token', () => {
    const events = [
      makeEvent({ id: 1, kind: 'acquisition', method: 'client_credentials', access_expires_at: T0 + 5 * MIN }),
      makeEvent({ id: 2, at: T0 + 60 * MIN, method: 'client_credentials', access_expires_at: T0 + 65 * MIN }),
      makeEvent({ id: 3, at: T0 + 62 * MIN, kind: 'revocation', method: 'refresh_token', access_expires_at: T0 + 65 * MIN }),
    ];
    const l = lives(events, T0 + 90 * MIN);
    expect(l.map((x) => [x.start, x.end, x.ending])).toEqual([
      [T0, T0 + 5 * MIN, 'expired'],
      [T0 + 60 * MIN, T0 + 62 * MIN, 'revoked'],
    ]);
  });

  it('an expiry in the past with nothing after is expired; failures make no life', () => {
    const l = lives([makeEvent({ kind: 'acquisition' }), makeEvent({ id: 2, at: T0 + MIN, outcome: 'failure' })], T0 + 2 * 60 * MIN);
    expect(l).toHaveLength(1);
    expect(l[0].ending).toBe('expired');
  });
});

describe('window and axis', () => {
  it('zooms to an hour, a day, a week ending near the given end, or all events', () => {
    const end = T0 + 30 * MIN;
    for (const [zoom, span] of [['hour', 60 * MIN], ['day', 24 * 60 * MIN], ['week', 7 * 24 * 60 * MIN]] as const) {
      const w = windowOf(zoom, [], end);
      expect(w.to - w.from).toBe(span);
      expect(w.from < end && end < w.to).toBe(true);
    }
    const all = windowOf('all', signInStory(), end);
    expect(all.from).toBeLessThan(T0);
    expect(all.to).toBeGreaterThan(end);
  });

  it('puts ticks on round times inside the window', () => {
    const t = ticks(T0 + 7 * MIN, T0 + 67 * MIN, 6);
    expect(t.length).toBeGreaterThanOrEqual(2);
    expect(t.every((x) => x >= T0 + 7 * MIN && x <= T0 + 67 * MIN && x % (5 * MIN) === 0)).toBe(true);
  });

  it('names events: a sign-in by its grant', () => {
    expect(eventTitle(makeEvent({ kind: 'acquisition', method: 'authorization_code' }))).toMatch(/^sign-in/);
    expect(eventTitle(makeEvent({ kind: 'acquisition', method: 'client_credentials' }))).toBe('acquisition (client credentials)');
    expect(eventTitle(makeEvent())).toBe('refresh (refresh token)');
  });
});
