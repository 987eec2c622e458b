// The dashboard's order: by name, by environment then name, by expiry then name.
import { describe, expect, it } from 'vitest';
import { makeProfile, makeToken } from '../../test/fixtures';
import { orderTokens, rankProfiles } from '../tokenOrder';

const profiles = [
  makeProfile({ id: 'b', name: 'beta', environment: 'prod' }),
  makeProfile({ id: 'a', name: 'Alpha', environment: '' }),
  makeProfile({ id: 'c', name: 'gamma', environment: 'dev' }),
  makeProfile({ id: 'd', name: 'delta', environment: 'prod' }),
];
const tokens = [
  makeToken({ profile_id: 'c', access_expires_at: 5_000 }),
  makeToken({ profile_id: 'zz-parked', access_expires_at: 1_000 }),
  makeToken({ profile_id: 'a', access_expires_at: null }),
  makeToken({ profile_id: 'd', access_expires_at: 5_000 }),
  makeToken({ profile_id: 'b', access_expires_at: 9_000 }),
];
const ids = (ts: { profile_id: string }[]) => ts.map((t) => t.profile_id);

describe('token order', () => {
  const ranks = rankProfiles(profiles);

  it('sorts by name as the locale collates (case aside), a token without a listed profile last', () => {
    expect(ids(orderTokens(tokens, ranks, 'name'))).toEqual(['a', 'b', 'd', 'c', 'zz-parked']);
  });

  it('sorts by environment, profiles without one last, then by name', () => {
    // (A "~" stand-in for "none" sorted first: the locale's collation puts symbols before letters.)
    expect(ids(orderTokens(tokens, ranks, 'environment'))).toEqual(['c', 'b', 'd', 'a', 'zz-parked']);
  });

  it('sorts by expiry, ties by name, a token that never expires last', () => {
    expect(ids(orderTokens(tokens, ranks, 'expiry'))).toEqual(['zz-parked', 'd', 'c', 'b', 'a']);
  });

  it('leaves the given list as it was', () => {
    const copy = [...tokens];
    orderTokens(tokens, ranks, 'name');
    expect(tokens).toEqual(copy);
  });
});
