// The order of the dashboard's live tokens. The profiles' order (by name, by environment then
// name) is worked out when the profiles change, which is rare; a token change (hundreds a second
// with 10,000 profiles renewed in the background) then sorts by numbers, not by collating names.

import type { Profile } from './bindings/Profile';
import type { ProfileId } from './bindings/ProfileId';
import type { TokenSet } from './bindings/TokenSet';

export type TokenSort = 'name' | 'expiry' | 'environment';

/** Each profile's place by name, and by environment (none last) then name. */
export interface ProfileRanks {
  name: ReadonlyMap<ProfileId, number>;
  environment: ReadonlyMap<ProfileId, number>;
}

const collator = new Intl.Collator();

export function rankProfiles(profiles: readonly Profile[]): ProfileRanks {
  const byName = (a: Profile, b: Profile) => collator.compare(a.name, b.name);
  const places = (sorted: Profile[]) => new Map(sorted.map((p, i) => [p.id, i]));
  return {
    name: places([...profiles].sort(byName)),
    environment: places(
      [...profiles].sort(
        (a, b) =>
          Number(a.environment === '') - Number(b.environment === '') ||
          collator.compare(a.environment, b.environment) ||
          byName(a, b),
      ),
    ),
  };
}

/**
 * The tokens in the order asked for (a new array). A token whose profile is not ranked (not
 * listed) comes after the ranked ones, by profile id; by expiry, ties and tokens that never
 * expire go by name.
 */
export function orderTokens(tokens: readonly TokenSet[], ranks: ProfileRanks, sort: TokenSort): TokenSet[] {
  const rank = sort === 'environment' ? ranks.environment : ranks.name;
  const keyed = tokens.map((t) => ({ t, r: rank.get(t.profile_id) ?? Infinity, e: t.access_expires_at ?? Infinity }));
  // Infinity - Infinity is NaN, which is falsy: equal ranks and equal (or no) expiries fall through.
  const byRank = (a: (typeof keyed)[number], b: (typeof keyed)[number]) =>
    a.r - b.r || collator.compare(a.t.profile_id, b.t.profile_id);
  keyed.sort(sort === 'expiry' ? (a, b) => a.e - b.e || byRank(a, b) : byRank);
  return keyed.map((k) => k.t);
}
