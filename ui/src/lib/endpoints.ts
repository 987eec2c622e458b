// Which provider operations a profile can use: an endpoint set by hand, else the discovered one.

import type { Profile } from './bindings/Profile';

export type Operation = 'introspection' | 'revocation' | 'userinfo';

const DISCOVERED: Record<Operation, 'introspection_endpoint' | 'revocation_endpoint' | 'userinfo_endpoint'> = {
  introspection: 'introspection_endpoint',
  revocation: 'revocation_endpoint',
  userinfo: 'userinfo_endpoint',
};

/** The endpoint URL for the operation, or null when the provider has none. */
export function endpointFor(profile: Profile | undefined, op: Operation): string | null {
  if (!profile) return null;
  return profile.endpoints[op] ?? profile.metadata?.[DISCOVERED[op]] ?? null;
}

/** Why the operation is unavailable, or null when it is available. */
export function unavailableReason(profile: Profile | undefined, op: Operation): string | null {
  if (endpointFor(profile, op)) return null;
  const discovered = profile?.metadata != null;
  return `The provider has no ${op} endpoint${discovered ? ' in its discovery document' : ''}: set one in the profile's configuration if it has one.`;
}
