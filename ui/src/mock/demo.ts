// Demo data for the mock backend: a gateway-style client-credentials token (status,
// refresh_count, numbers as strings, epoch ms), an authorization-code token with an ID token and
// its validation, an expired one, one that needs a sign-in, a revoked one, history and exchanges.
// Also `bulkData(n)` for the tick benchmark.

import type { Exchange } from '../lib/bindings/Exchange';
import type { Profile } from '../lib/bindings/Profile';
import type { TokenEvent } from '../lib/bindings/TokenEvent';
import type { TokenSet } from '../lib/bindings/TokenSet';
import { type MockData, fakeJwt, mockProfile, tokenRef } from './backend';

const MIN = 60_000;

function profile(p: Partial<Profile> & Pick<Profile, 'id' | 'name' | 'grant' | 'client_id'>, now: number): Profile {
  return mockProfile({ created_at: now - 30 * 24 * 60 * MIN, updated_at: now - 2 * 24 * 60 * MIN, ...p }, now);
}

export function demoData(now: number): MockData {
  const GW = 'https://sandbox.gateway.example-bank.fi';
  const IDP = 'https://login.example-bank.fi';
  const profiles: Profile[] = [
    profile(
      {
        id: 'gw-accounts',
        name: 'Accounts API (gateway)',
        environment: 'sandbox',
        grant: 'client_credentials',
        client_id: 'a1b2c3d4-accounts-sandbox',
        auth_method: 'client_secret_post',
        endpoints: { authorization: null, token: `${GW}/oauth/token`, revocation: null, introspection: null, userinfo: null, jwks: null, par: null, device_authorization: null },
        scopes: ['accounts'],
        headers: [
          { name: 'x-api-key', value: 'a1b2c3d4-accounts-sandbox' },
          { name: 'x-request-id', value: 'tokendesk' },
        ],
        api_url: `${GW}/accounts/v3/accounts`,
      },
      now,
    ),
    profile(
      {
        id: 'psd2-payments',
        name: 'Payments — Substantial',
        environment: 'sandbox',
        grant: 'authorization_code',
        client_id: 'payments-tpp-7781',
        issuer: IDP,
        scopes: ['openid', 'payments', 'offline_access'],
        authorize_params: [
          { name: 'acr_values', value: 'urn:example:loa:substantial' },
          { name: 'response_type', value: 'code id_token' },
        ],
        metadata: {
          issuer: IDP,
          authorization_endpoint: `${IDP}/oauth/authorize`,
          token_endpoint: `${IDP}/oauth/token`,
          revocation_endpoint: `${IDP}/oauth/revoke`,
          introspection_endpoint: null,
          userinfo_endpoint: `${IDP}/oauth/userinfo`,
          jwks_uri: `${IDP}/oauth/jwks`,
          pushed_authorization_request_endpoint: null,
          device_authorization_endpoint: null,
          require_pushed_authorization_requests: false,
          authorization_response_iss_parameter_supported: true,
          code_challenge_methods_supported: ['S256'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt', 'tls_client_auth'],
          scopes_supported: ['openid', 'accounts', 'payments', 'offline_access'],
          response_types_supported: ['code', 'code id_token'],
          dpop_signing_alg_values_supported: [],
          source_url: `${IDP}/.well-known/openid-configuration`,
          notes: [],
          fetched_at: now - 3 * 60 * MIN,
          raw: {},
        },
      },
      now,
    ),
    profile(
      {
        id: 'stg-m2m',
        name: 'Staging M2M',
        environment: 'test',
        grant: 'client_credentials',
        client_id: 'svc-reporting',
        issuer: 'https://auth.staging.example.com',
        scopes: ['reports:read', 'reports:write'],
        auth_method: 'client_secret_post',
        secrets: {
          client_secret: { from: 'command', argv: ['pass', 'show', 'team/staging/svc-reporting'], timeout_secs: 20 },
          private_key: { from: 'keychain' },
          tls_key: { from: 'env', var: 'STAGING_TLS_KEY' },
        },
      },
      now,
    ),
    profile(
      {
        id: 'auth0-dev',
        name: 'Auth0 dev tenant',
        environment: 'test',
        grant: 'authorization_code',
        client_id: 'Xk2p9QwErTy7UiOp',
        issuer: 'https://dev-tokendesk.eu.auth0.com/',
        audience: 'https://api.example.com',
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        auth_method: 'none',
      },
      now,
    ),
    profile(
      {
        id: 'prod-ro',
        name: 'Production read-only',
        environment: 'production',
        grant: 'client_credentials',
        client_id: 'prod-readonly-01',
        issuer: 'https://idp.example.com',
        scopes: ['read'],
      },
      now,
    ),
    profile(
      {
        id: 'partner-revoked',
        name: 'Partner key (revoked)',
        environment: 'production',
        grant: 'client_credentials',
        client_id: 'partner-4411',
        auth_method: 'client_secret_post',
        endpoints: { authorization: null, token: `${GW}/oauth/token`, revocation: null, introspection: null, userinfo: null, jwks: null, par: null, device_authorization: null },
        scopes: ['payments'],
      },
      now,
    ),
    profile(
      {
        id: 'keycloak-local',
        name: 'Keycloak local',
        grant: 'authorization_code',
        client_id: 'tokendesk-dev',
        issuer: 'http://localhost:8080/realms/dev',
        scopes: ['openid'],
      },
      now,
    ),
  ];

  const decoded: MockData['decoded'] = {};
  const jwt = (pid: string, kind: string, header: Record<string, unknown>, claims: Record<string, unknown>) => {
    decoded[`${pid}/${kind}`] = { header: header as never, claims: claims as never };
    return tokenRef(fakeJwt(header as never, claims as never), true);
  };
  const opaque = (pid: string, kind: string, value: string, why = 'Not three dot-separated parts: an opaque (reference) token.') => {
    decoded[`${pid}/${kind}`] = { not_jwt: why };
    return tokenRef(value, false);
  };
  const s = (ms: number) => Math.floor(ms / 1000);

  // 1. Gateway token: numbers as strings, epoch ms, BearerToken, status, refresh_count; the
  //    refresh token expires before the access token.
  const gwObtained = now - 11 * MIN - 12_000;
  const gwToken: TokenSet = {
    profile_id: 'gw-accounts',
    grant: 'client_credentials',
    token_type: 'BearerToken',
    scope: 'accounts',
    status: 'approved',
    obtained_at: gwObtained,
    access_expires_at: gwObtained + 1799_000,
    refresh_expires_at: gwObtained + 899_000 + 11 * MIN,
    id_token_expires_at: null,
    refresh_count: 3,
    access: opaque('gw-accounts', 'access_token', 'AAIgNjFhYjRlZGMtZDkxMi00ZWJjLWI4NWQtOWI4ZmE5MjNiZTBkS9j'),
    refresh: opaque('gw-accounts', 'refresh_token', 'AAIkNjFhYjRlZGMtZDkxMi00ZWJjLWI4NWQtOWI4ZmE5MjNiZTBkxQ2'),
    id_token: null,
    raw: {
      refresh_token_expires_in: '899',
      api_product_list: '[accounts-sandbox, payments-sandbox]',
      api_product_list_json: ['accounts-sandbox', 'payments-sandbox'],
      organization_name: 'op-sandbox',
      'developer.email': 'dev@tpp.example',
      token_type: 'BearerToken',
      issued_at: String(gwObtained),
      client_id: 'a1b2c3d4-accounts-sandbox',
      access_token: '<redacted>',
      refresh_token: '<redacted>',
      application_name: 'c0f7e6a2-2f4b-4b61-9d0e-3f5c6f9b8e21',
      scope: 'accounts',
      refresh_token_issued_at: String(gwObtained + 11 * MIN),
      expires_in: '1799',
      refresh_count: '3',
      status: 'approved',
    },
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
  };

  // 2. Authorization code with an ID token: amber access, healthy refresh.
  const pObtained = now - 6 * MIN - 40_000;
  const idClaims = {
    iss: IDP,
    sub: 'user-58213',
    aud: 'payments-tpp-7781',
    exp: s(pObtained + 10 * MIN),
    iat: s(pObtained),
    auth_time: s(pObtained - 25_000),
    nonce: 'n-0S6_WzA2Mj',
    acr: 'urn:example:loa:substantial',
    amr: ['bank_id'],
    c_hash: 'LDktKdoQak3Pk0cnXxCltA',
    s_hash: 'WZRHGrsBESr8wYFZ9sx0tA',
    authorizationId: 'pay-2c8e1b3e-7d1a-4b7e',
  };
  const pToken: TokenSet = {
    profile_id: 'psd2-payments',
    grant: 'authorization_code',
    token_type: 'Bearer',
    scope: 'openid payments offline_access',
    status: null,
    obtained_at: pObtained,
    access_expires_at: pObtained + 10 * MIN,
    refresh_expires_at: pObtained + 90 * 24 * 60 * MIN,
    id_token_expires_at: pObtained + 10 * MIN,
    refresh_count: null,
    access: jwt(
      'psd2-payments',
      'access_token',
      { alg: 'PS256', kid: '2024-05-rot', typ: 'at+jwt' },
      {
        iss: IDP,
        sub: 'user-58213',
        aud: `${GW}/payments`,
        client_id: 'payments-tpp-7781',
        scope: 'openid payments offline_access',
        iat: s(pObtained),
        nbf: s(pObtained),
        exp: s(pObtained + 10 * MIN),
        jti: '3f0b7c1e-5a3d-4c2f-9a8e-6d2b1c0e9f7a',
        cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
      },
    ),
    refresh: opaque('psd2-payments', 'refresh_token', 'rt.7Gq9s0ZP2xWkV4mJtY6bN1cR8eL3hA5uD'),
    id_token: jwt('psd2-payments', 'id_token', { alg: 'PS256', kid: '2024-05-rot', typ: 'JWT' }, idClaims),
    raw: {
      access_token: '<redacted>',
      token_type: 'Bearer',
      expires_in: 600,
      refresh_token: '<redacted>',
      id_token: '<redacted>',
      scope: 'openid payments offline_access',
    },
    needs_login: null,
    id_token_validation: {
      checks: [
        { name: 'signature', ok: true, detail: 'PS256 with key 2024-05-rot from the JWKS' },
        { name: 'iss', ok: true, detail: `${IDP} matches the discovered issuer` },
        { name: 'aud', ok: true, detail: 'contains payments-tpp-7781' },
        { name: 'exp', ok: true, detail: 'not expired at sign-in (60 s leeway)' },
        { name: 'iat', ok: true, detail: 'issued 1 s before the response' },
        { name: 'nonce', ok: true, detail: 'matches the nonce sent' },
        { name: 'c_hash', ok: false, detail: 'c_hash does not match the code (hybrid flow): the code may have been swapped' },
      ],
    },
    revoked_at: null,
    retry_at: null,
    last_error: null,
    dpop_jkt: null,
    notes: [],
    issued_token_type: null,
    exchanged_from: null,
    exchange_actor: null,
  };

  // 3. Expired client-credentials token.
  const eObtained = now - 66 * MIN;
  const eToken: TokenSet = {
    profile_id: 'stg-m2m',
    grant: 'client_credentials',
    token_type: 'Bearer',
    scope: 'reports:read reports:write',
    status: null,
    obtained_at: eObtained,
    access_expires_at: eObtained + 60 * MIN,
    refresh_expires_at: null,
    id_token_expires_at: null,
    refresh_count: null,
    access: jwt('stg-m2m', 'access_token', { alg: 'RS256', kid: 'stg-1', typ: 'JWT' }, { iss: 'https://auth.staging.example.com', sub: 'svc-reporting', aud: 'reports', iat: s(eObtained), exp: s(eObtained + 60 * MIN), scope: 'reports:read reports:write' }),
    refresh: null,
    id_token: null,
    raw: { access_token: '<redacted>', token_type: 'Bearer', expires_in: 3600, scope: 'reports:read reports:write' },
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
  };

  // 4. Needs a sign-in: refresh token rejected.
  const nObtained = now - 3 * 60 * MIN;
  const nToken: TokenSet = {
    profile_id: 'auth0-dev',
    grant: 'authorization_code',
    token_type: 'Bearer',
    scope: 'openid profile email offline_access',
    status: null,
    obtained_at: nObtained,
    access_expires_at: nObtained + 24 * 60 * MIN,
    refresh_expires_at: nObtained + 30 * 24 * 60 * MIN,
    id_token_expires_at: nObtained + 10 * 60 * MIN,
    refresh_count: null,
    access: jwt('auth0-dev', 'access_token', { alg: 'RS256', typ: 'JWT', kid: 'q9W' }, { iss: 'https://dev-tokendesk.eu.auth0.com/', sub: 'auth0|6650', aud: ['https://api.example.com', 'https://dev-tokendesk.eu.auth0.com/userinfo'], iat: s(nObtained), exp: s(nObtained + 24 * 60 * MIN), azp: 'Xk2p9QwErTy7UiOp', scope: 'openid profile email offline_access' }),
    refresh: opaque('auth0-dev', 'refresh_token', 'v1.MTk3Yzg2ZTQtY2FkMy00ZDQ2LWI0OGMtNzE2ZTBlOGRhZDMx'),
    id_token: jwt('auth0-dev', 'id_token', { alg: 'RS256', typ: 'JWT', kid: 'q9W' }, { iss: 'https://dev-tokendesk.eu.auth0.com/', sub: 'auth0|6650', aud: 'Xk2p9QwErTy7UiOp', iat: s(nObtained), exp: s(nObtained + 10 * 60 * MIN), name: 'Dev User', email: 'dev@example.com', email_verified: true, nonce: 'abc' }),
    raw: { access_token: '<redacted>', token_type: 'Bearer', expires_in: 86400, refresh_token: '<redacted>', id_token: '<redacted>', scope: 'openid profile email offline_access' },
    needs_login: 'The provider rejected the refresh token (invalid_grant: Unknown or invalid refresh token). Sign in again.',
    id_token_validation: { checks: [{ name: 'signature', ok: true, detail: 'RS256, key q9W' }, { name: 'iss', ok: true, detail: 'matches' }, { name: 'aud', ok: true, detail: 'contains the client id' }, { name: 'nonce', ok: true, detail: 'matches' }] },
    revoked_at: null,
    retry_at: null,
    last_error: null,
    dpop_jkt: null,
    notes: [],
    issued_token_type: null,
    exchanged_from: null,
    exchange_actor: null,
  };

  // 5. Healthy long-lived opaque token, no refresh token.
  const rObtained = now - 9 * MIN;
  const rToken: TokenSet = {
    profile_id: 'prod-ro',
    grant: 'client_credentials',
    token_type: 'Bearer',
    scope: 'read',
    status: null,
    obtained_at: rObtained,
    access_expires_at: rObtained + 8 * 60 * MIN,
    refresh_expires_at: null,
    id_token_expires_at: null,
    refresh_count: null,
    access: opaque('prod-ro', 'access_token', '2YotnFZFEjr1zCsicMWpAA9kq3mNpLoQ'),
    refresh: null,
    id_token: null,
    raw: { access_token: '<redacted>', token_type: 'bearer', expires_in: 28800, scope: 'read' },
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
  };

  // 6. Revoked at the gateway.
  const vObtained = now - 2 * MIN;
  const vToken: TokenSet = {
    ...gwToken,
    profile_id: 'partner-revoked',
    scope: 'payments',
    status: 'revoked',
    obtained_at: vObtained,
    access_expires_at: vObtained + 1799_000,
    refresh_expires_at: vObtained + 899_000,
    refresh_count: 0,
    access: opaque('partner-revoked', 'access_token', 'AAIgZmU3YjI0ZDEtNzk1Ni00YjYwLWEwZjgtYWI1ZGYzMWUxMmQ4Hk'),
    refresh: opaque('partner-revoked', 'refresh_token', 'AAIkZmU3YjI0ZDEtNzk1Ni00YjYwLWEwZjgtYWI1ZGYzMWUxMmQ4Pp'),
    raw: { ...gwToken.raw, status: 'revoked', refresh_count: '0', issued_at: String(vObtained), client_id: 'partner-4411', scope: 'payments' },
  };

  const hist = (over: Partial<TokenEvent>, i: number, at: number): TokenEvent => ({
    id: 100 + i,
    profile_id: 'gw-accounts',
    at,
    kind: 'refresh',
    trigger: 'automatic',
    method: 'refresh_token',
    outcome: 'success',
    duration_ms: 180,
    access_expires_at: at + 1799_000,
    refresh_expires_at: at + 899_000,
    refresh_count: 3 - i,
    rotated: true,
    error_code: null,
    error_message: null,
    exchange_id: null,
    ...over,
  });
  const history: MockData['history'] = {
    'gw-accounts': [
      hist({ trigger: 'automatic', duration_ms: 212 }, 0, gwObtained),
      hist({ trigger: 'manual', duration_ms: 164, refresh_count: 2 }, 1, gwObtained - 14 * MIN),
      hist(
        {
          trigger: 'automatic',
          outcome: 'failure',
          duration_ms: 10_012,
          access_expires_at: null,
          refresh_expires_at: null,
          refresh_count: null,
          rotated: false,
          error_code: 'timeout',
          error_message: 'The token endpoint did not answer within 10 s. Retrying in 30 s.',
        },
        2,
        gwObtained - 15 * MIN,
      ),
      hist({ trigger: 'command_line', duration_ms: 233, refresh_count: 1, rotated: false }, 3, gwObtained - 29 * MIN),
      hist({ kind: 'acquisition', trigger: 'manual', method: 'client_credentials', duration_ms: 301, refresh_count: 0, rotated: false }, 4, gwObtained - 44 * MIN),
    ],
    'psd2-payments': [],
  };

  const form = 'application/x-www-form-urlencoded';
  const ex = (over: Partial<Exchange>): Exchange => ({
    id: 0,
    profile_id: 'gw-accounts',
    operation: 'token:refresh_token',
    at: now,
    method: 'POST',
    url: `${GW}/oauth/token`,
    status: 200,
    duration_ms: 200,
    request_headers: [
      { name: 'content-type', value: form },
      { name: 'accept', value: 'application/json' },
      { name: 'x-api-key', value: 'a1b2c3d4-accounts-sandbox' },
      { name: 'x-request-id', value: 'tokendesk' },
    ],
    request_body: '',
    response_headers: [
      { name: 'content-type', value: 'application/json;charset=UTF-8' },
      { name: 'cache-control', value: 'no-store' },
      { name: 'x-correlation-id', value: '9b1e7c40-4a5e-4b0b-8c1f-2f8d0e6a1c33' },
    ],
    response_body: '',
    error: null,
    ...over,
  });
  const exchanges: MockData['exchanges'] = {
    'gw-accounts': [
      ex({
        operation: 'token:client_credentials',
        at: gwObtained - 44 * MIN,
        duration_ms: 301,
        request_body: 'grant_type=client_credentials&scope=accounts&client_id=a1b2c3d4-accounts-sandbox&client_secret=<redacted>',
        response_body: JSON.stringify({ ...gwToken.raw, refresh_count: '0' }),
      }),
      ex({
        at: gwObtained - 15 * MIN,
        status: null,
        duration_ms: 10_012,
        request_body: 'grant_type=refresh_token&refresh_token=<redacted>&client_id=a1b2c3d4-accounts-sandbox&client_secret=<redacted>',
        response_headers: [],
        error: 'timeout: the token endpoint did not answer within 10 s',
      }),
      ex({
        at: gwObtained - 2 * MIN,
        status: 400,
        duration_ms: 95,
        request_body: 'grant_type=refresh_token&refresh_token=<redacted>&client_id=a1b2c3d4-accounts-sandbox&client_secret=<redacted>&scope=payments',
        response_body: JSON.stringify({ ErrorCode: 'invalid_scope', Error: 'Scope payments is not allowed for this application' }),
      }),
      ex({
        at: gwObtained,
        duration_ms: 212,
        request_body: 'grant_type=refresh_token&refresh_token=<redacted>&client_id=a1b2c3d4-accounts-sandbox&client_secret=<redacted>',
        response_body: JSON.stringify(gwToken.raw),
      }),
    ],
  };

  return {
    profiles,
    tokens: [gwToken, pToken, eToken, nToken, rToken, vToken],
    history,
    exchanges,
    secrets: { 'gw-accounts': true, 'psd2-payments': true, 'stg-m2m': true, 'prod-ro': true, 'partner-revoked': false },
    decoded,
    settings: { clipboard_clear_secs: 30, close_to_tray: true, start_at_login: false, expiry_warning_hours: 24 },
    sandbox: { running: true, standard_issuer: 'http://127.0.0.1:47311', gateway_issuer: 'http://127.0.0.1:47312/gateway', bank_issuer: 'http://127.0.0.1:47312/bank', preparing: false },
  };
}

/** `n` live tokens with staggered lifetimes, for the tick benchmark. */
export function bulkData(n: number, now: number): MockData {
  const profiles: Profile[] = [];
  const tokens: TokenSet[] = [];
  const envs = ['sandbox', 'test', 'staging', 'production', ''];
  for (let i = 0; i < n; i++) {
    const id = `bulk-${i}`;
    const cc = i % 3 !== 0;
    profiles.push(
      profile(
        {
          id,
          name: `Token ${String(i).padStart(3, '0')}`,
          environment: envs[i % envs.length],
          grant: cc ? 'client_credentials' : 'authorization_code',
          client_id: `client-${i}`,
          issuer: 'https://idp.example.com',
          scopes: ['read', 'write'],
        },
        now,
      ),
    );
    const life = (5 + (i % 55)) * MIN;
    const obtained = now - ((i * 7919) % life);
    tokens.push({
      profile_id: id,
      grant: cc ? 'client_credentials' : 'authorization_code',
      token_type: 'Bearer',
      scope: 'read write',
      status: i % 4 === 0 ? 'approved' : null,
      obtained_at: obtained,
      access_expires_at: obtained + life,
      refresh_expires_at: i % 5 === 0 ? null : obtained + 2 * life + 1000 * i,
      id_token_expires_at: null,
      refresh_count: i % 4 === 0 ? i % 17 : null,
      access: { preview: 'eyJhbG…x9Q0', fingerprint: i.toString(16).padStart(16, '0'), is_jwt: true },
      refresh: i % 5 === 0 ? null : { preview: '•••• (20 chars)', fingerprint: (i + 1).toString(16).padStart(16, '0'), is_jwt: false },
      id_token: null,
      raw: { access_token: '<redacted>', token_type: 'Bearer', expires_in: life / 1000 },
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
    });
  }
  return {
    profiles,
    tokens,
    history: {},
    exchanges: {},
    secrets: {},
    decoded: {},
    settings: { clipboard_clear_secs: 30, close_to_tray: true, start_at_login: false, expiry_warning_hours: 24 },
    sandbox: { running: false, standard_issuer: null, gateway_issuer: null, bank_issuer: null, preparing: false },
  };
}
