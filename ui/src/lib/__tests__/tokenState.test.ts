import { describe, expect, it } from 'vitest';
import type { TokenSet } from '../bindings/TokenSet';
import { HealthBoard, nextHealthChange, tokenHealth, tokenState } from '../tokenState';

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
  it('hands back the same map until a token changes or a threshold is crossed', () => {
    const board = new HealthBoard();
    const tokens = [token(), token({ profile_id: 'p2', access_expires_at: 1_000_000 })];
    const a = board.get(tokens, 0);
    expect(a.get('p1')).toBe('valid');
    expect(board.stale(50_000)).toBe(false);
    expect(board.get(tokens, 50_000)).toBe(a);
    expect(board.stale(80_002)).toBe(true);
    const b = board.get(tokens, 80_002);
    expect(b).not.toBe(a);
    expect(b.get('p1')).toBe('expiring');
    expect(b.get('p2')).toBe('valid');
    // New token list: recomputed even though no threshold passed.
    const c = board.get([token({ access_expires_at: null })], 80_003);
    expect(c.get('p1')).toBe('valid');
    // The clock going back (tests, sleep/wake) recomputes too.
    expect(board.stale(0)).toBe(true);
  });

  it('works out only the tokens that changed, unless a threshold was crossed meanwhile', () => {
    const board = new HealthBoard();
    const p2 = token({ profile_id: 'p2', access_expires_at: 1_000_000 });
    const before = board.get([token(), p2], 0);
    const p1 = token({ access_expires_at: 60_000 }); // renewed: expiring from 48,000
    const p3 = token({ profile_id: 'p3', access_expires_at: 10_000 });
    const now = [p1, p3];
    expect(board.update(now, [p1, p3], ['p2'], 20_000)).toBe(true);
    const after = board.get(now, 20_000);
    expect(after).toBe(before); // brought up to date in place, not worked out again
    expect([...after]).toEqual([
      ['p1', 'valid'],
      ['p3', 'expired'],
    ]);
    // The renewed token's own threshold counts.
    expect(board.stale(48_001)).toBe(false);
    expect(board.stale(48_002)).toBe(true);
    // Past a threshold, everything is worked out again.
    expect(board.update([p1], [], ['p3'], 50_000)).toBe(false);
    expect([...board.get([p1], 50_000)]).toEqual([['p1', 'expiring']]);
  });
});
