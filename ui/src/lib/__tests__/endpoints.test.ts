import { describe, expect, it } from 'vitest';
import { endpointFor, unavailableReason } from '../endpoints';
import type { Profile } from '../bindings/Profile';

const base = {
  endpoints: { authorization: null, token: 'https://gw/token', revocation: null, introspection: null, userinfo: null, jwks: null },
  metadata: null,
} as unknown as Profile;

describe('provider operations per profile', () => {
  it('is unavailable with a reason when neither set nor discovered', () => {
    expect(endpointFor(base, 'revocation')).toBeNull();
    expect(unavailableReason(base, 'revocation')).toMatch(/no revocation endpoint/);
  });
  it('uses the discovered endpoint, and a manual one wins', () => {
    const discovered = { ...base, metadata: { introspection_endpoint: 'https://op/introspect' } } as unknown as Profile;
    expect(endpointFor(discovered, 'introspection')).toBe('https://op/introspect');
    expect(unavailableReason(discovered, 'introspection')).toBeNull();
    const manual = { ...discovered, endpoints: { ...base.endpoints, introspection: 'https://manual/i' } } as unknown as Profile;
    expect(endpointFor(manual, 'introspection')).toBe('https://manual/i');
    expect(unavailableReason(discovered, 'userinfo')).toMatch(/in its discovery document/);
  });
});
