// Test data shared by the component tests.
import type { Profile } from '../lib/bindings/Profile';
import type { TokenSet } from '../lib/bindings/TokenSet';
import { emptyConfig } from '../lib/profileForm';

export const REF = { preview: 'eyJhbG…x9Q0', fingerprint: '0011223344556677', is_jwt: true };

export function makeToken(over: Partial<TokenSet> = {}): TokenSet {
  return {
    profile_id: 'p1',
    grant: 'client_credentials',
    token_type: 'Bearer',
    scope: 'read',
    status: null,
    obtained_at: 0,
    access_expires_at: 600_000,
    refresh_expires_at: null,
    id_token_expires_at: null,
    refresh_count: null,
    access: REF,
    refresh: null,
    id_token: null,
    raw: { access_token: '<redacted>', token_type: 'Bearer', expires_in: 600 },
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

export function makeProfile(over: Partial<Profile> = {}): Profile {
  return {
    ...emptyConfig(),
    id: 'p1',
    name: 'Profile one',
    client_id: 'client-1',
    grant: 'client_credentials',
    endpoints: { ...emptyConfig().endpoints, token: 'https://idp.example.com/token' },
    metadata: null,
    created_at: 0,
    updated_at: 0,
    ...over,
  };
}

/** Lets pending promise callbacks (mocked invokes) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
