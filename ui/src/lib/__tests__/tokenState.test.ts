import { describe, expect, it } from 'vitest';
import type { TokenSet } from '../bindings/TokenSet';
import { HealthBoard, nextHealthChange, noHealthCounts, tokenHealth, tokenState } from '../tokenState';

const ref = { preview: 'eyJhbG…x9Q0', fingerprint: '0011223344556677', is_jwt: true };

function token(over: Partial<TokenSet> = {}): TokenSet {
  return {
    profile_id: 'p1',
    grant: 'client_credentials',
    token_type: 'Bearer',
    scope: 'read',
    status: null,
    obtained_at: 0,
    access_expires_at: 100_000,
    refresh_expires_at: null,
    id_token_expires_at: null,
    refresh_count: null,
    access: ref,
    refresh: null,
    id_token: null,
    raw: {},
    needs_login: null,
    id_token_validation: null,
    revoked_at: null,
    retry_at: null,
    last_error: null,
    dpop_jkt: null,
    notes: [],
    issued_token_type: null,
    exchanged_from: null,
    exchange_actor: null,
    ...over,
  };
}

describe('tokenState (mirrors TokenSet::state in the core)', () => {
  it('is valid before the access expiry and expired from it on', () => {
    expect(tokenState(token(), 0)).toBe('valid');
    expect(tokenState(token(), 99_999)).toBe('valid');
    expect(tokenState(token(), 100_000)).toBe('expired');
  });

  it('treats a token without expiry as valid', () => {
    expect(tokenState(token({ access_expires_at: null }), 1e15)).toBe('valid');
  });

  it('needs a sign-in when an expired auth-code token cannot be refreshed', () => {
    const noRefresh = token({ grant: 'authorization_code' });
    expect(tokenState(noRefresh, 200_000)).toBe('needs_login');
    const refreshExpired = token({ grant: 'authorization_code', refresh: ref, refresh_expires_at: 150_000 });
    expect(tokenState(refreshExpired, 120_000)).toBe('expired'); // the refresh token still works
    expect(tokenState(refreshExpired, 150_000)).toBe('needs_login');
    // A client-credentials token can always be fetched again.
    expect(tokenState(token(), 200_000)).toBe('expired');
  });

  it('needs a sign-in once expired when the core says so', () => {
    const t = token({ refresh: ref, needs_login: 'invalid_grant: sign in again' });
    expect(tokenState(t, 50_000)).toBe('valid');
    expect(tokenState(t, 100_000)).toBe('needs_login');
  });

  it('is not approved when the gateway status says anything but approved', () => {
    expect(tokenState(token({ status: 'approved' }), 0)).toBe('valid');
    expect(tokenState(token({ status: 'Approved' }), 0)).toBe('valid');
    expect(tokenState(token({ status: '' }), 0)).toBe('valid');
    expect(tokenState(token({ status: 'revoked' }), 0)).toBe('not_approved');
    expect(tokenState(token({ status: 'pending' }), 200_000)).toBe('not_approved');
  });

  it('is revoked once revoked through TokenDesk, before anything else', () => {
    expect(tokenState(token({ revoked_at: 10, status: 'pending' }), 0)).toBe('revoked');
  });
});

describe('tokenHealth (status dots)', () => {
  it('is none without a token and expiring in the last fifth of the lifetime', () => {
    expect(tokenHealth(undefined, 0)).toBe('none');
    expect(tokenHealth(null, 0)).toBe('none');
    expect(tokenHealth(token(), 79_999)).toBe('valid');
    expect(tokenHealth(token(), 80_000)).toBe('expiring');
    expect(tokenHealth(token(), 99_999)).toBe('expiring');
    expect(tokenHealth(token(), 100_000)).toBe('expired');
    expect(tokenHealth(token({ grant: 'authorization_code' }), 100_000)).toBe('needs_login');
    expect(tokenHealth(token({ status: 'rejected' }), 0)).toBe('not_approved');
  });

  it('knows when it can next change, just past each threshold', () => {
    const t = token({ refresh: ref, refresh_expires_at: 300_000 });
    expect(nextHealthChange(t, 0)).toBe(80_002);
    expect(tokenHealth(t, 80_002)).toBe('expiring');
    expect(nextHealthChange(t, 80_002)).toBe(100_002);
    expect(nextHealthChange(t, 100_002)).toBe(300_002);
    expect(nextHealthChange(t, 300_002)).toBe(Infinity);
  });
});

describe('HealthBoard', () => {
  /** A board with a log of what it reported. */
  function watched() {
    const told: Array<[string, string | undefined]> = [];
    const board = new HealthBoard((id, h) => told.push([id, h]));
    return { board, told };
  }

  it('stays put until a token changes or its own threshold is crossed', () => {
    const { board, told } = watched();
    const tokens = [token(), token({ profile_id: 'p2', access_expires_at: 1_000_000 })];
    expect(board.sync(tokens, 0)).toBe(true);
    expect(board.health('p1')).toBe('valid');
    expect(told).toEqual([
      ['p1', 'valid'],
      ['p2', 'valid'],
    ]);
    told.length = 0;
    expect(board.stale(50_000)).toBe(false);
    expect(board.sync(tokens, 50_000)).toBe(false); // the same token objects: nothing to do
    expect(board.stale(80_001)).toBe(false);
    expect(board.stale(80_002)).toBe(true);
    expect(board.advance(80_002)).toBe(true);
    expect(board.all()).toEqual(
      new Map([
        ['p1', 'expiring'],
        ['p2', 'valid'],
      ]),
    );
    expect(told).toEqual([['p1', 'expiring']]); // p2 was not due, and did not change
    // A new token list: the new token set is worked out even though no threshold passed.
    expect(board.sync([token({ access_expires_at: null })], 80_003)).toBe(true);
    expect(board.all()).toEqual(new Map([['p1', 'valid']]));
    // The clock going back (tests, sleep/wake) works everything out again.
    expect(board.stale(0)).toBe(true);
    expect(board.advance(0)).toBe(false);
    expect(board.all()).toEqual(new Map([['p1', 'valid']]));
  });

  it('works out only the tokens that changed, and those due by then', () => {
    const { board, told } = watched();
    const p2 = token({ profile_id: 'p2', access_expires_at: 1_000_000 });
    board.sync([token(), p2], 0);
    told.length = 0;
    const p1 = token({ access_expires_at: 60_000 }); // renewed: expiring from 48,000
    const p3 = token({ profile_id: 'p3', access_expires_at: 10_000 });
    expect(board.update([p1, p3], ['p2'], 20_000)).toBe(true);
    expect(board.all()).toEqual(
      new Map([
        ['p1', 'valid'],
        ['p3', 'expired'],
      ]),
    );
    expect(told).toEqual([
      ['p2', undefined],
      ['p3', 'expired'],
    ]); // p1's health did not change: not told
    expect(board.counts()).toMatchObject({ valid: 1, expired: 1, expiring: 0 });
    // The renewed token's own threshold counts, the replaced token set's (80,002) no more.
    expect(board.stale(48_001)).toBe(false);
    expect(board.stale(48_002)).toBe(true);
    // Past a threshold, the token due is worked out with the change.
    expect(board.update([], ['p3'], 50_000)).toBe(true);
    expect(board.all()).toEqual(new Map([['p1', 'expiring']]));
    expect(board.counts()).toMatchObject({ valid: 0, expiring: 1, expired: 0 });
    // The renewed p1 expires at 60,000; the replaced p1's moment (80,002) changes nothing.
    told.length = 0;
    expect(board.advance(60_002)).toBe(true);
    expect(board.advance(80_002)).toBe(false);
    expect(told).toEqual([['p1', 'expired']]);
  });

  it('tells a token crossing its threshold at a tick, among many that do not', () => {
    const { board, told } = watched();
    const many = Array.from({ length: 1000 }, (_, i) =>
      token({ profile_id: `q${i}`, obtained_at: 0, access_expires_at: 3_600_000 + i * 1000 }),
    );
    const soon = token({ profile_id: 'soon', obtained_at: -500, access_expires_at: 4_500 });
    board.sync([...many, soon], 0);
    told.length = 0;
    expect(board.advance(3_000)).toBe(false);
    expect(board.advance(4_000)).toBe(true); // a fifth of 5 s left from 3,500
    expect(told).toEqual([['soon', 'expiring']]);
    expect(board.advance(5_000)).toBe(true);
    expect(told).toEqual([
      ['soon', 'expiring'],
      ['soon', 'expired'],
    ]);
    expect(board.counts()).toMatchObject({ valid: 1000, expired: 1, expiring: 0 });
  });

  it('agrees with tokenHealth at every tick while tokens come, change and leave', () => {
    // Deterministic pseudo-random tokens, made 500 ms (plus whole seconds) before a whole or a
    // ·600 second, with lifetimes of whole seconds: every threshold (expiry, refresh expiry, a
    // fifth of the lifetime left) is at an odd hundred of ms, so none falls within the 2-ms pad
    // before a check (at whole and ·600 seconds).
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const grants = ['client_credentials', 'authorization_code'] as const;
    const make = (id: string, now: number): TokenSet => {
      const life = (1 + rnd(40)) * 1000;
      const obtained = now - 500 - rnd(30) * 1000;
      return token({
        profile_id: id,
        grant: grants[rnd(2)],
        obtained_at: obtained,
        access_expires_at: rnd(10) === 0 ? null : obtained + life,
        refresh: rnd(2) === 0 ? ref : null,
        refresh_expires_at: rnd(2) === 0 ? null : obtained + life + rnd(20) * 1000,
        needs_login: rnd(8) === 0 ? 'invalid_grant' : null,
        status: rnd(12) === 0 ? 'pending' : null,
      });
    };
    const { board } = watched();
    let tokens = Array.from({ length: 200 }, (_, i) => make(`t${i}`, 0));
    board.sync(tokens, 0);
    let next = 200;
    const check = (now: number) => {
      const want = new Map(tokens.map((t) => [t.profile_id, tokenHealth(t, now)]));
      expect(board.all()).toEqual(want);
      const counts = noHealthCounts();
      for (const h of want.values()) counts[h]++;
      expect(board.counts()).toEqual(counts);
    };
    for (let now = 1000; now <= 80_000; now += 1000) {
      board.advance(now);
      check(now);
      // Between ticks: some tokens renewed, some removed, some new; half the time as a patch
      // (update), half as a whole new list (sync).
      const changed: TokenSet[] = [];
      const removed: string[] = [];
      const at = now + 600;
      tokens = tokens.flatMap((t) => {
        const r = rnd(40);
        if (r === 0) {
          removed.push(t.profile_id);
          return [];
        }
        if (r <= 2) {
          const n = make(t.profile_id, at);
          changed.push(n);
          return [n];
        }
        return [t];
      });
      for (let k = rnd(3); k > 0; k--) {
        const n = make(`t${next++}`, at);
        changed.push(n);
        tokens.push(n);
      }
      if (rnd(2) === 0) board.update(changed, removed, at);
      else board.sync(tokens, at);
      check(at);
    }
  });
});
