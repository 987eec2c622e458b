#!/usr/bin/env node
// TokenDesk test authorization server.
//
// A real OAuth 2.0 / OpenID Connect provider (oidc-provider 9.13.3) on
// 127.0.0.1, plus hand-written extras on the same port:
//   * /gateway/token  - an Apigee-style bank API gateway token endpoint
//   * /broken/*       - endpoints that misbehave, for error-handling tests
//   * /accounts-psd2/*, /payments-psd2/* - an OP Financial Group style PSD2 API
//     (consents, SEPA payments, accounts) for the `psd2-tpp` client
//
// Contract with the test harness (see README.md):
//   * stdout carries exactly ONE line, printed once listening:
//       {"issuer":"http://127.0.0.1:PORT","port":PORT}
//     everything else (oidc-provider notices, access log) goes to stderr.
//   * the process exits on SIGTERM / SIGINT, and when stdin (if it is a pipe
//     or socket) reaches EOF, so a dying parent takes the server with it.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { cibaClient, cibaClients, cibaFeature, cibaSlowDown, deliverPings, handleCibaTest } from './ciba.mjs';
import { RAR_TYPES, rarFeature } from './rar.mjs';
import { TEST_API_SCOPES, handleTestApi, isTestApiPath, testApiResource } from './api.mjs';
import { directoryKeys, softwareStatementMetadata } from './software_statement.mjs';

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

const USAGE = `usage: node server.mjs [--port N] [--access-ttl S] [--refresh-ttl S] [--id-ttl S]
                      [--cc-ttl S] [--gateway-refresh-ttl S] [--tls-dir DIR]
                      [--tamper-hybrid c_hash|s_hash ...] [--device-interval S]
                      [--clock-offset S] [--ciba-interval S] [--ciba-notify URL]
                      [--registration off|open|iat] [--software-statement] [--quiet]`;

/** What --tamper-hybrid may break in a front-channel (hybrid) ID token. */
const TAMPERABLE_HASHES = ['c_hash', 's_hash'];

function parseCli(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: 'string', default: '0' },
        'access-ttl': { type: 'string', default: '120' },
        'refresh-ttl': { type: 'string', default: '900' },
        'id-ttl': { type: 'string', default: '120' },
        'cc-ttl': { type: 'string' },
        'gateway-refresh-ttl': { type: 'string', default: '900' },
        quiet: { type: 'boolean', default: false },
        'tls-dir': { type: 'string' },
        'tamper-hybrid': { type: 'string', multiple: true, default: [] },
        'device-interval': { type: 'string', default: '1' },
        // CIBA (ciba.mjs): the interval its answers announce, and where ciba-ping is notified.
        'ciba-interval': { type: 'string', default: '1' },
        'ciba-notify': { type: 'string', default: 'http://127.0.0.1:9/ciba' },
        // The Date header of every answer is this many seconds off (negative: behind), as from a
        // provider whose clock is wrong.
        'clock-offset': { type: 'string', default: '0' },
        // Dynamic client registration (RFC 7591) and its management (RFC 7592): off, open to
        // anyone, or only with the initial access token printed in the ready line.
        registration: { type: 'string', default: 'off' },
        // With --registration: a registration must bring a software statement (RFC 7591 §2.3)
        // signed by the test directory's keys (printed in the ready line).
        'software-statement': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.error(USAGE);
    process.exit(0);
  }
  const int = (name, min) => {
    const raw = values[name];
    if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
      console.error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}\n${USAGE}`);
      process.exit(2);
    }
    return Number(raw);
  };
  const accessTtl = int('access-ttl', 1);
  if (values['cc-ttl'] === undefined) values['cc-ttl'] = String(accessTtl);
  const port = int('port', 0);
  if (port > 65535) {
    console.error('--port must be <= 65535');
    process.exit(2);
  }
  // --tamper-hybrid c_hash --tamper-hybrid s_hash, or --tamper-hybrid c_hash,s_hash
  const tamperHybrid = new Set(values['tamper-hybrid'].flatMap((v) => v.split(',')).map((v) => v.trim()));
  for (const claim of tamperHybrid) {
    if (!TAMPERABLE_HASHES.includes(claim)) {
      console.error(`--tamper-hybrid must be one of ${TAMPERABLE_HASHES.join(', ')}, got ${JSON.stringify(claim)}\n${USAGE}`);
      process.exit(2);
    }
  }
  if (!['off', 'open', 'iat'].includes(values.registration)) {
    console.error(`--registration must be off, open or iat, got ${JSON.stringify(values.registration)}\n${USAGE}`);
    process.exit(2);
  }
  if (values['software-statement'] && values.registration === 'off') {
    console.error(`--software-statement needs --registration open or iat\n${USAGE}`);
    process.exit(2);
  }
  return {
    registration: values.registration,
    softwareStatement: values['software-statement'],
    port,
    accessTtl,
    refreshTtl: int('refresh-ttl', 1),
    idTtl: int('id-ttl', 1),
    ccTtl: int('cc-ttl', 1),
    gatewayRefreshTtl: int('gateway-refresh-ttl', 1),
    quiet: values.quiet,
    tlsDir: values['tls-dir'],
    tamperHybrid,
    deviceInterval: int('device-interval', 1),
    cibaInterval: int('ciba-interval', 1),
    cibaNotify: values['ciba-notify'],
    clockOffset: (() => {
      const raw = values['clock-offset'];
      if (!/^-?\d+$/.test(raw)) {
        console.error(`--clock-offset must be an integer number of seconds, got ${JSON.stringify(raw)}\n${USAGE}`);
        process.exit(2);
      }
      return Number(raw);
    })(),
  };
}

const opts = parseCli(process.argv.slice(2));
const log = opts.quiet ? () => {} : (...args) => console.error('[provider]', ...args);

// oidc-provider prints its "you SHOULD change ..." notices with console.info,
// i.e. to stdout, at arbitrary times (some on first use of a default helper).
// Route console.log/info to stderr BEFORE loading it so stdout stays clean,
// and write the single ready line with process.stdout.write directly.
console.log = console.error;
console.info = console.error;
const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------------------
// Constants shared by the OIDC configuration
// ---------------------------------------------------------------------------

/** Resource indicator (and JWT `aud`) of the fake protected API. */
const API_RESOURCE = 'https://api.tokendesk.test';
const API_SCOPES = ['api:read', 'api:write'];

/**
 * The PSD2 API (OP Financial Group style): its own resource server with OPAQUE access tokens,
 * so the API routes below can look tokens up with oidc-provider's models. Client-credentials
 * tokens with these scopes are issued for it; in an authorization request they are plain
 * (OIDC) scopes, so the code-flow access token stays usable at userinfo too.
 */
const PSD2_RESOURCE = 'https://psd2.tokendesk.test';
const PSD2_SCOPES = ['accounts', 'payments'];
const PSD2_CLIENT_ID = 'psd2-tpp';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** Token type identifiers (RFC 8693 §3). */
const TOKEN_TYPE = (t) => `urn:ietf:params:oauth:token-type:${t}`;
/** Audiences an exchanged token may be for (RFC 8693 `audience`); the first is the default. */
const EXCHANGE_AUDIENCES = ['https://downstream.tokendesk.test', API_RESOURCE];
const ACR_SCA = 'urn:openbanking:psd2:sca';
/** The acr of a multi-factor sign-in, which the test API's RFC 9470 route demands (api.mjs). */
const ACR_MFA = 'urn:tokendesk:mfa';
const ACR_VALUES = [ACR_SCA, 'urn:openbanking:psd2:ca', ACR_MFA];

const LOOPBACK_REDIRECTS = [
  'http://127.0.0.1/callback',
  'http://[::1]/callback',
  'http://localhost/callback',
];

// `application_type: 'native'` makes oidc-provider ignore the port of http
// loopback redirect URIs (RFC 8252 7.3), so the app may listen on any port.
const interactiveClient = (overrides) => ({
  application_type: 'native',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: LOOPBACK_REDIRECTS,
  scope: 'openid offline_access profile email api:read',
  ...overrides,
});

/**
 * Key pairs of the private_key_jwt clients, fresh every run: the public half is registered
 * (the client's `jwks`), the private half (PKCS#8 PEM) is reported in the ready line for the
 * tests to give to TokenDesk, as a bank's developer portal hands out a key for a TPP.
 */
function clientKeyPair(type, kid) {
  const { publicKey, privatePem } = newKeyPair(type);
  return {
    jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' }] },
    pem: privatePem,
  };
}

/**
 * A fresh RSA (2048) or P-256 key pair: KeyObjects made from PEM, and the private PEM.
 *
 * Not the KeyObjects generateKeyPairSync returns: exporting one of those as JWK can deadlock
 * Node 20 for good when a garbage collection during the export frees the key's generation job
 * (seen in CI: `~KeyGenJob` waiting on the mutex `ExportJWKRsaKey` holds). Keys read back from
 * PEM belong to no job.
 */
function newKeyPair(type) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync(type, {
    ...(type === 'ec' ? { namedCurve: 'P-256' } : { modulusLength: 2048 }),
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: crypto.createPublicKey(publicKey),
    privateKey: crypto.createPrivateKey(privateKey),
    privatePem: privateKey,
  };
}
// --software-statement: the test directory that signs software statements.
const DIRECTORY_KEYS = opts.softwareStatement ? directoryKeys() : undefined;
const CLIENT_KEYS = {
  'cc-jwt': clientKeyPair('rsa', 'cc-jwt-rsa'),
  'cc-jwt-ec': clientKeyPair('ec', 'cc-jwt-ec'),
  'web-app-jwt': clientKeyPair('rsa', 'web-app-jwt-rsa'),
  'web-app-jar': clientKeyPair('ec', 'web-app-jar-ec'),
  [PSD2_CLIENT_ID]: clientKeyPair('rsa', 'psd2-tpp-rsa'),
  'fapi-app': clientKeyPair('rsa', 'fapi-app-rsa'),
  'ciba-jar': clientKeyPair('ec', 'ciba-jar-ec'),
};

const CLIENTS = [
  {
    client_id: 'cc-basic',
    client_secret: 'cc-basic-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'api:read api:write',
  },
  {
    client_id: 'cc-post',
    client_secret: 'cc-post-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'api:read api:write',
  },
  interactiveClient({
    client_id: 'web-app',
    client_secret: 'web-app-secret',
    token_endpoint_auth_method: 'client_secret_basic',
  }),
  interactiveClient({
    client_id: 'web-app-post',
    client_secret: 'web-app-post-secret',
    token_endpoint_auth_method: 'client_secret_post',
  }),
  // Pushed authorization requests only (RFC 9126), as FAPI 2.0 asks.
  interactiveClient({
    client_id: 'web-app-par',
    client_secret: 'web-app-par-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    require_pushed_authorization_requests: true,
  }),
  interactiveClient({
    client_id: 'public-app',
    token_endpoint_auth_method: 'none',
  }),
  // FAPI 2.0 Security Profile (features.fapi, for this client only): PAR, PKCE S256,
  // private_key_jwt with the issuer as audience, DPoP-bound tokens, PS256 ID tokens.
  interactiveClient({
    client_id: 'fapi-app',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'PS256',
    jwks: CLIENT_KEYS['fapi-app'].jwks,
    require_pushed_authorization_requests: true,
    dpop_bound_access_tokens: true,
    id_token_signed_response_alg: 'PS256',
  }),
  // JARM: the authorization response comes signed (response=<JWT>).
  interactiveClient({
    client_id: 'jarm-app',
    client_secret: 'jarm-app-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    authorization_signed_response_alg: 'RS256',
  }),
  // DPoP (RFC 9449): tokens only when bound to a key (a Bearer request is refused); the
  // provider asks every proof for a nonce it handed out (features.dPoP.requireNonce).
  interactiveClient({
    client_id: 'dpop-app',
    client_secret: 'dpop-app-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    dpop_bound_access_tokens: true,
  }),
  {
    client_id: 'cc-dpop',
    client_secret: 'cc-dpop-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    dpop_bound_access_tokens: true,
    scope: 'api:read api:write',
  },
  // client_secret_jwt (OIDC Core §9): an assertion signed with the secret (HS256/384/512; 64
  // bytes so that HS512 is allowed).
  {
    client_id: 'cc-secret-jwt',
    client_secret: 'cc-secret-jwt-0123456789abcdef0123456789abcdef0123456789abcdef0123',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_jwt',
    scope: 'api:read api:write',
  },
  // private_key_jwt (RFC 7523): no secret; the client signs an assertion with its key.
  {
    client_id: 'cc-jwt',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: CLIENT_KEYS['cc-jwt'].jwks,
    scope: 'api:read api:write',
  },
  {
    client_id: 'cc-jwt-ec',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: CLIENT_KEYS['cc-jwt-ec'].jwks,
    scope: 'api:read api:write',
  },
  interactiveClient({
    client_id: 'web-app-jwt',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: CLIENT_KEYS['web-app-jwt'].jwks,
  }),
  // Signed authorization requests only (RFC 9101), as PSD2 banks ask: a plain one is refused.
  interactiveClient({
    client_id: 'web-app-jar',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    request_object_signing_alg: 'ES256',
    require_signed_request_object: true,
    jwks: CLIENT_KEYS['web-app-jar'].jwks,
  }),
  // Token exchange (RFC 8693): trades an access token or ID token this provider issued for an
  // access token (or a signed JWT) of its own for another audience.
  {
    client_id: 'exchanger',
    client_secret: 'exchanger-secret',
    grant_types: [TOKEN_EXCHANGE_GRANT],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'api:read api:write',
  },
  // The same with private_key_jwt (cc-jwt's key): the grant's own parameters and the client
  // assertion in one request.
  {
    client_id: 'exchanger-jwt',
    grant_types: [TOKEN_EXCHANGE_GRANT],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: CLIENT_KEYS['cc-jwt'].jwks,
    scope: 'api:read api:write',
  },
  // OP Financial Group's PSD2 sequence: client credentials (scope accounts/payments) for the
  // consent/payment routes, a signed (PS256) hybrid authorization request carrying the
  // authorizationId in `claims`, and the JWT-bearer grant. Its RSA key (kid psd2-tpp-rsa)
  // signs request objects, JWT-bearer assertions and x-jws-signature; the client itself
  // authenticates with a secret in the form.
  interactiveClient({
    client_id: PSD2_CLIENT_ID,
    client_secret: 'psd2-tpp-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials', JWT_BEARER_GRANT],
    // oidc-provider adds `implicit` to grant_types itself (required by `code id_token`).
    response_types: ['code id_token', 'code'],
    request_object_signing_alg: 'PS256',
    require_signed_request_object: true,
    jwks: CLIENT_KEYS[PSD2_CLIENT_ID].jwks,
    scope: `openid offline_access profile email ${PSD2_SCOPES.join(' ')}`,
  }),
];

// Device authorization grant (RFC 8628). The user approves with tests/provider/device.mjs.
//   device-app       client_secret_basic, the ordinary case
//   device-public    a public client (auth method none)
//   device-slow      public; its second poll of a code, and any poll sooner than the code's
//                    interval, is answered slow_down (the interval then grows by 5 s) — see
//                    deviceSlowDown below; oidc-provider 9 itself never says slow_down
//   device-expiring  public; its codes die after 2 s though the answer says expires_in 600,
//                    so the poll after that gets expired_token
//   device-short     public; its codes live 2 s and the answer says so (the client's own
//                    deadline ends the wait)
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DEVICE_TTL = 600;
const DEVICE_SHORT_TTL = 2;
const deviceClient = (overrides) => ({
  grant_types: [DEVICE_GRANT, 'refresh_token'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'none',
  scope: 'openid offline_access profile email api:read',
  ...overrides,
});
CLIENTS.push(
  deviceClient({ client_id: 'device-app', client_secret: 'device-app-secret', token_endpoint_auth_method: 'client_secret_basic' }),
  deviceClient({ client_id: 'device-public' }),
  deviceClient({ client_id: 'device-slow' }),
  deviceClient({ client_id: 'device-expiring' }),
  deviceClient({ client_id: 'device-short' }),
);
// web-app may also sign in on another device: an authorization-code client used over SSH.
CLIENTS.find((c) => c.client_id === 'web-app').grant_types.push(DEVICE_GRANT);

// Rich Authorization Requests (rar.mjs) and CIBA (ciba.mjs).
CLIENTS.push(
  interactiveClient({
    client_id: 'rar-app',
    client_secret: 'rar-app-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    authorization_details_types: RAR_TYPES,
  }),
  {
    client_id: 'rar-cc',
    client_secret: 'rar-cc-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    authorization_details_types: RAR_TYPES,
    scope: 'api:read api:write',
  },
  ...cibaClients(opts),
  // CIBA with signed authentication requests (CIBA Core §7.1.1) and private_key_jwt, ES256.
  (({ client_secret, ...c }) => c)(cibaClient({
    client_id: 'ciba-jar',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    backchannel_authentication_request_signing_alg: 'ES256',
    jwks: CLIENT_KEYS['ciba-jar'].jwks,
  })),
);

// With --tls-dir: HTTPS, client certificates asked for, and a client that authenticates with
// one (RFC 8705 tls_client_auth) and gets certificate-bound access tokens.
if (opts.tlsDir) {
  CLIENTS.push({
    client_id: 'cc-mtls',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: 'CN=cc-mtls',
    tls_client_certificate_bound_access_tokens: true,
    scope: 'api:read api:write',
  });
}

/** The peer certificate of a request's TLS connection, PEM, or undefined. */
function peerCertificate(ctx) {
  const cert = ctx.socket.getPeerCertificate?.();
  if (!cert || !cert.raw) return undefined;
  return new crypto.X509Certificate(cert.raw);
}

const requestsApiScope = (scope) => typeof scope === 'string'
  && scope.split(' ').some((s) => API_SCOPES.includes(s));
const requestsPsd2Scope = (scope) => typeof scope === 'string'
  && scope.split(' ').some((s) => PSD2_SCOPES.includes(s));

/** Resource server of the PSD2 API (see PSD2_RESOURCE); TTLs come from `ttl`. */
const psd2ResourceServerInfo = () => ({
  scope: PSD2_SCOPES.join(' '),
  audience: PSD2_RESOURCE,
  accessTokenFormat: 'opaque',
});

// ---------------------------------------------------------------------------
// PSD2 authorizations (consents and payments), registered by the API routes
// ---------------------------------------------------------------------------

/** authorizationId -> { type: 'consent'|'payment', clientId, scope, status, request, paymentId? } */
const psd2Authorizations = new Map();

/** The registered authorization `id` of `clientId`, or undefined. */
function psd2Authorization(id, clientId) {
  if (typeof id !== 'string') return undefined;
  const found = psd2Authorizations.get(id);
  return found && (clientId === undefined || found.clientId === clientId) ? found : undefined;
}

/**
 * oidc-provider's own check of the claims parameter (members null or objects), plus: an
 * `authorizationId` asked for must carry a registered authorization of this client as its
 * `value`; otherwise the authorization request is refused (error redirect, invalid_request).
 */
async function assertClaimsParameter(ctx, claims, client) {
  const seen = new Map();
  for (const container of ['userinfo', 'id_token']) {
    if (claims[container] === undefined) continue;
    for (const value of Object.values(claims[container])) {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
        throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
      }
    }
    if (!Object.hasOwn(claims[container], 'authorizationId')) continue;
    const id = claims[container].authorizationId?.value;
    if (typeof id !== 'string' || id === '') {
      throw new errors.InvalidRequest(`claims.${container}.authorizationId must name the authorizationId in "value"`);
    }
    if (!psd2Authorization(id, client.clientId)) {
      throw new errors.InvalidRequest(`unknown authorizationId ${JSON.stringify(id)} (claims.${container}.authorizationId)`);
    }
    seen.set(container, id);
  }
  if (seen.size === 2 && seen.get('userinfo') !== seen.get('id_token')) {
    throw new errors.InvalidRequest('claims.id_token.authorizationId and claims.userinfo.authorizationId differ');
  }
}

/** The authorizationId a request's claims parameter (a JSON string or object) asks for. */
function requestedAuthorizationId(claims) {
  const parsed = typeof claims === 'string' ? (() => { try { return JSON.parse(claims); } catch { return undefined; } })() : claims;
  return parsed?.id_token?.authorizationId?.value ?? parsed?.userinfo?.authorizationId?.value;
}

/** The acr the psd2-tpp login gets: SCA unless the request asked only for others. */
function psd2LoginAcr(params) {
  const wanted = [];
  let claims;
  try { claims = typeof params.claims === 'string' ? JSON.parse(params.claims) : params.claims; } catch { /* checked before */ }
  for (const container of ['id_token', 'userinfo']) {
    const acr = claims?.[container]?.acr;
    if (typeof acr?.value === 'string') wanted.push(acr.value);
    if (Array.isArray(acr?.values)) wanted.push(...acr.values.filter((v) => typeof v === 'string'));
  }
  if (typeof params.acr_values === 'string') wanted.push(...params.acr_values.split(' ').filter(Boolean));
  if (wanted.length === 0 || wanted.includes(ACR_SCA)) return ACR_SCA;
  return wanted[0];
}

/** A fresh RSA signing key per run (instead of oidc-provider's dev keystore): RS256 for most
 * clients, PS256 for those registered for it (fapi-app). */
function signingJwks() {
  const { privateKey } = newKeyPair('rsa');
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `tokendesk-test-${crypto.randomBytes(4).toString('hex')}`, use: 'sig' }] };
}

/** The provider's signing keys (private JWKs), kept to verify what it signed itself. */
const SIGNING_JWKS = signingJwks();

function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

function providerConfiguration() {
  const DAY = 24 * 60 * 60;
  return {
    clients: CLIENTS,
    clientAuthMethods: [
      'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none',
      ...(opts.tlsDir ? ['tls_client_auth'] : []),
    ],
    // Under TLS, the client-authenticating endpoints are also published as mTLS aliases
    // (RFC 8705 §5) on another host name of this server, so a test can see them used.
    discovery: opts.tlsDir ? {
      mtls_endpoint_aliases: Object.fromEntries(
        [['token_endpoint', '/token'], ['revocation_endpoint', '/token/revocation'],
          ['introspection_endpoint', '/token/introspection']]
          .map(([k, p]) => [k, `${issuer.replace('127.0.0.1', 'localhost')}${p}`]),
      ),
    } : {},
    jwks: SIGNING_JWKS,
    // oidc-provider's defaults plus HS384/HS512, for client_secret_jwt with the longer hashes.
    enabledJWA: {
      clientAuthSigningAlgValues: ['HS256', 'HS384', 'HS512', 'RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'],
    },
    // Default is 15 s, which oidc-provider also adds to the expiry of stored
    // tokens: an access token with --access-ttl 5 would still work at
    // userinfo after 19 s. Expiry tests want tokens to die on time.
    clockTolerance: 0,
    cookies: {
      // Fixed keys: signed cookies stay valid for the whole run.
      keys: ['tokendesk-test-cookie-key-1', 'tokendesk-test-cookie-key-2'],
    },
    // api:* must be listed here so the clients' `scope` metadata validates;
    // profile/email are added automatically from `claims`.
    scopes: ['openid', 'offline_access', ...API_SCOPES, ...PSD2_SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      // Standalone claim, only ever returned when asked for with the claims parameter.
      authorizationId: null,
    },
    // Listing them also makes `acr` a supported claim. Only psd2-tpp logins get an acr.
    acrValues: ACR_VALUES,
    responseTypes: ['code id_token', 'code', 'id_token', 'none'],
    async findAccount(ctx, sub) {
      // Any login name is a valid account; it becomes `sub`.
      return {
        accountId: sub,
        async claims(use, scope, claims) {
          // `claims`: what the claims parameter asked for in this container (id_token or userinfo).
          const authorizationId = claims?.authorizationId?.value;
          return {
            sub,
            name: capitalize(sub),
            email: `${sub}@example.com`,
            email_verified: true,
            ...(psd2Authorization(authorizationId) ? { authorizationId } : {}),
          };
        },
      };
    },
    // The JWT-bearer grant's token remembers its authorizationId (see jwtBearerGrant).
    // A token-exchange token remembers whom it acts for (see tokenExchangeGrant).
    async extraTokenClaims(ctx, token) {
      // Tokens for the test API (api.mjs) say how the user signed in, for its RFC 9470 route.
      const grant = ctx.oidc?.entities?.AuthorizationCode ?? ctx.oidc?.entities?.RefreshToken;
      const forTestApi = token.resourceServer?.audience === testApiResource(ctx.oidc.issuer);
      const extra = {
        ...(token.psd2AuthorizationId ? { authorizationId: token.psd2AuthorizationId } : {}),
        ...(token.exchange ?? {}),
        ...(forTestApi && grant?.acr ? { acr: grant.acr } : {}),
        ...(forTestApi && grant?.authTime ? { auth_time: grant.authTime } : {}),
      };
      return Object.keys(extra).length ? extra : undefined;
    },
    features: {
      devInteractions: { enabled: true }, // built-in login + consent pages
      deviceFlow: { enabled: true }, // /device/auth, the verification page at /device
      ciba: cibaFeature(opts, log, errors), // /backchannel; see ciba.mjs
      richAuthorizationRequests: rarFeature(errors), // see rar.mjs
      clientCredentials: { enabled: true },
      jwtResponseModes: { enabled: true },
      fapi: { enabled: true, profile: (ctx, client) => (client?.clientId === 'fapi-app' ? '2.0' : undefined) },
      // Every DPoP proof must carry a nonce this provider gave (DPoP-Nonce), as banks do.
      dPoP: { enabled: true, nonceSecret: crypto.randomBytes(32), requireNonce: () => true },
      introspection: { enabled: true },
      requestObjects: { enabled: true },
      claimsParameter: { enabled: true, assertClaimsParameter },
      mTLS: {
        enabled: Boolean(opts.tlsDir),
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        getCertificate: (ctx) => peerCertificate(ctx)?.toString(),
        certificateAuthorized: (ctx) => ctx.socket.authorized === true,
        certificateSubjectMatches(ctx, property, expected) {
          if (property !== 'tls_client_auth_subject_dn') return false;
          return peerCertificate(ctx)?.subject.split('\n').join(',') === expected;
        },
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      // --registration: /reg (RFC 7591) and /reg/:id (RFC 7592, the registration access token
      // rotated on every update).
      registration: {
        enabled: opts.registration !== 'off',
        initialAccessToken: opts.registration === 'iat',
      },
      registrationManagement: {
        enabled: opts.registration !== 'off',
        rotateRegistrationAccessToken: true,
      },
      resourceIndicators: {
        enabled: true,
        // Decides which resource a request is for when it names none.
        //  * client_credentials: the PSD2 API when a PSD2 scope (accounts,
        //    payments) is asked for (=> opaque token), else the API (=> JWT
        //    access token).
        //  * authorization request: the API only when an api:* scope is asked
        //    for. Otherwise no resource, and the access token issued for the
        //    code is opaque and usable at userinfo (oidc-provider only issues
        //    userinfo-capable tokens for requests without a resource).
        // `oneOf` is set when a stored grant holds several resources.
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf.includes(API_RESOURCE) ? API_RESOURCE : oneOf;
          // Rich Authorization Requests need a resource (oidc-provider): the API's.
          if (ctx.oidc.params?.authorization_details) return API_RESOURCE;
          if (ctx.oidc.params?.grant_type === 'client_credentials') {
            return requestsPsd2Scope(ctx.oidc.params?.scope) ? PSD2_RESOURCE : API_RESOURCE;
          }
          if (requestsApiScope(ctx.oidc.params?.scope)) return API_RESOURCE;
          return undefined;
        },
        // Token/refresh requests reuse the resource granted at authorization.
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(ctx, resourceIndicator) {
          if (resourceIndicator === PSD2_RESOURCE) return psd2ResourceServerInfo();
          // The protected test API of api.mjs (its resource is on this server's origin).
          if (resourceIndicator === testApiResource(ctx.oidc.issuer)) {
            return {
              scope: TEST_API_SCOPES.join(' '),
              audience: resourceIndicator,
              accessTokenFormat: 'jwt',
              accessTokenTTL: opts.accessTtl,
              jwt: { sign: { alg: 'RS256' } },
            };
          }
          if (resourceIndicator !== API_RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPES.join(' '),
            audience: API_RESOURCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: opts.accessTtl,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ...(opts.softwareStatement ? { extraClientMetadata: softwareStatementMetadata(DIRECTORY_KEYS, errors) } : {}),
    pkce: {
      // Every authorization-code request needs code_challenge (S256 is the
      // only method oidc-provider 9 supports at all).
      required: () => true,
    },
    // Issue a refresh token to any client allowed the refresh_token grant,
    // without needing offline_access + prompt=consent.
    async issueRefreshToken(ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    // Tokens outlive the browser session (the headless login jar is thrown away).
    async expiresWithSession() {
      return false;
    },
    // Every refresh returns a new refresh token and consumes the old one.
    // Replaying a consumed one fails with invalid_grant AND revokes the grant.
    rotateRefreshToken: true,
    ttl: {
      AccessToken: opts.accessTtl,
      ClientCredentials: opts.ccTtl,
      RefreshToken: opts.refreshTtl,
      IdToken: opts.idTtl,
      AuthorizationCode: 120,
      DeviceCode: (ctx, token, client) => (
        ['device-expiring', 'device-short'].includes(client?.clientId) ? DEVICE_SHORT_TTL : DEVICE_TTL),
      Interaction: 60 * 60,
      BackchannelAuthenticationRequest: (ctx) => Math.min(600, Number(ctx?.oidc?.params.requested_expiry) || 600),
      Session: 14 * DAY,
      // A refresh token is useless once its grant expires: keep grants longer.
      Grant: Math.max(14 * DAY, opts.refreshTtl * 2),
    },
    // Plain-HTML error page with the error code in <title>, easy for
    // login.mjs (and humans) to read.
    async renderError(ctx, out) {
      const esc = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>oidc error: ${esc(out.error)}</title></head>
<body><h1>oops! something went wrong</h1>
${Object.entries(out).map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(v)}</pre>`).join('\n')}
</body></html>`;
    },
  };
}

// ---------------------------------------------------------------------------
// Small HTTP helpers for the hand-written endpoints
// ---------------------------------------------------------------------------

const MAX_BODY = 1024 * 1024;

function readBody(req) {
  return readRawBody(req).then((buf) => buf.toString('utf8'));
}

/** The request body as bytes (what a detached JWS signs). */
function readRawBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res, status, body, contentType, extraHeaders = {}) {
  const buf = Buffer.from(body ?? '', 'utf8');
  res.writeHead(status, {
    ...(contentType ? { 'content-type': contentType } : {}),
    'content-length': buf.length,
    'cache-control': 'no-store',
    ...extraHeaders,
  });
  res.end(buf);
}

const sendJson = (res, status, obj, extraHeaders) => send(res, status, JSON.stringify(obj), 'application/json;charset=UTF-8', extraHeaders);

// ---------------------------------------------------------------------------
// Strict client authentication method
// ---------------------------------------------------------------------------
//
// oidc-provider 9 treats client_secret_basic and client_secret_post as
// interchangeable: a client registered for one may authenticate with the
// other. That would make cc-basic vs cc-post (web-app vs web-app-post)
// indistinguishable, so requests to the client-authenticating endpoints are
// checked here first and a mismatch is rejected like oidc-provider would.

const CLIENT_AUTH_PATHS = new Set(['/token', '/token/introspection', '/token/revocation', '/request', '/device/auth', '/backchannel']);
const REGISTERED_AUTH_METHOD = new Map(CLIENTS.map((c) => [c.client_id, c.token_endpoint_auth_method]));

function decodeBasicPart(s) {
  try { return decodeURIComponent(s.replace(/\+/g, '%20')); } catch { return s; }
}

/**
 * Buffers the body of a client-authenticating POST, rejects a wrong
 * authentication method, and hands the buffered body on to oidc-provider
 * (which reads `req.body` when the stream was already consumed; it logs a
 * one-time "already parsed request body detected" warning about that).
 * Returns true when the request was answered here.
 */
async function rejectWrongClientAuthMethod(req, res) {
  const raw = await readBody(req);
  req.body = raw;
  if (!/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) return false;

  const form = new URLSearchParams(raw);
  let clientId = form.get('client_id');
  let presented = form.has('client_secret') ? 'client_secret_post' : null;
  const auth = req.headers.authorization;
  if (auth && /^basic\s+/i.test(auth)) {
    if (presented) return false; // two mechanisms: oidc-provider rejects that itself
    const decoded = Buffer.from(auth.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i !== -1) clientId = decodeBasicPart(decoded.slice(0, i));
    presented = 'client_secret_basic';
  }
  const registered = REGISTERED_AUTH_METHOD.get(clientId);
  if (!presented || !registered?.startsWith('client_secret_') || presented === registered) return false;

  log(`rejecting ${clientId}: registered ${registered}, presented ${presented}`);
  sendJson(res, 401, {
    error: 'invalid_client',
    error_description: `the provided authentication mechanism does not match the registered client authentication method (registered ${registered}, presented ${presented})`,
  }, presented === 'client_secret_basic'
    ? { 'www-authenticate': `Basic realm="${issuer}", error="invalid_client"` }
    : {});
  return true;
}

// ---------------------------------------------------------------------------
// slow_down for the device-slow client (RFC 8628 §3.5)
// ---------------------------------------------------------------------------
//
// The second poll of each of its device codes is answered slow_down, and so is any poll that
// comes sooner than the code's interval since the previous one; each slow_down adds 5 s to the
// interval the server then expects. A client that does not add 5 s keeps getting slow_down.

/** device_code -> { polls, last (ms), intervalMs } */
const deviceSlowPolls = new Map();
/** device_code -> when it expires (ms): oidc-provider forgets an expired code and answers
 * invalid_grant; RFC 8628 §3.5 says expired_token, which this answers instead. */
const deviceCodeExpiry = new Map();

/**
 * Device-code polls: expired_token for a code past its lifetime, and slow_down for device-slow
 * when due. True when it answered.
 */
function deviceSlowDown(req, res, url) {
  if (url.pathname !== '/token' || typeof req.body !== 'string') return false;
  const form = new URLSearchParams(req.body);
  if (form.get('grant_type') !== DEVICE_GRANT) return false;
  const code = form.get('device_code') ?? '';
  const now = Date.now();
  for (const [c, at] of deviceCodeExpiry) if (at + 60_000 < now) deviceCodeExpiry.delete(c);
  const expiresAt = deviceCodeExpiry.get(code);
  if (expiresAt !== undefined && now >= expiresAt) {
    sendJson(res, 400, { error: 'expired_token', error_description: 'the device code has expired' });
    return true;
  }
  if (form.get('client_id') !== 'device-slow') return false;
  const st = deviceSlowPolls.get(code) ?? { polls: 0, last: 0, intervalMs: opts.deviceInterval * 1000 };
  deviceSlowPolls.set(code, st);
  st.polls += 1;
  const gap = st.last ? now - st.last : Infinity;
  st.last = now;
  if (st.polls !== 2 && gap >= st.intervalMs) return false;
  st.intervalMs += 5000;
  log(`device-slow: slow_down (poll ${st.polls}, ${gap === Infinity ? 'first' : `${gap} ms after the last`}; interval now ${st.intervalMs / 1000} s)`);
  sendJson(res, 400, {
    error: 'slow_down',
    error_description: `poll at most every ${st.intervalMs / 1000} s`,
  });
  return true;
}

// ---------------------------------------------------------------------------
// Apigee-style gateway: POST /gateway/token
// ---------------------------------------------------------------------------

const GW_CLIENT_ID = 'gw-client';
const GW_CLIENT_SECRET = 'gw-secret';
const GW_APPLICATION_NAME = crypto.randomUUID(); // stable for the whole run
const STANDARD_TOKEN_PARAMS = new Set(['grant_type', 'scope', 'client_id', 'client_secret', 'refresh_token']);

/** refresh_token value -> { refreshCount, scope, expiresAt } (single use). */
const gatewayRefreshTokens = new Map();

/** Apigee tokens are short alphanumeric strings. */
function gatewayToken(length) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

function safeEqual(a, b) {
  const ha = crypto.createHash('sha256').update(String(a)).digest();
  const hb = crypto.createHash('sha256').update(String(b)).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** Client credentials from `Authorization: Basic` (preferred) or the form. */
function gatewayClientCredentials(req, form) {
  const auth = req.headers.authorization;
  if (auth && /^basic\s+/i.test(auth)) {
    const decoded = Buffer.from(auth.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i === -1) return null;
    const dec = (s) => {
      try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
    };
    return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
  }
  if (form.has('client_id')) {
    return { id: form.get('client_id'), secret: form.get('client_secret') ?? '' };
  }
  return null;
}

/** Non-standard form params, echoed back so tests can see they arrived. */
function extraParams(form) {
  const extra = {};
  for (const key of new Set(form.keys())) {
    if (STANDARD_TOKEN_PARAMS.has(key)) continue;
    const all = form.getAll(key);
    extra[key] = all.length === 1 ? all[0] : all;
  }
  return Object.keys(extra).length ? extra : undefined;
}

function issueGatewayTokens({ scope, refreshCount, form }) {
  const now = Date.now();
  const refreshToken = gatewayToken(32);
  gatewayRefreshTokens.set(refreshToken, {
    scope,
    refreshCount,
    expiresAt: now + opts.gatewayRefreshTtl * 1000,
  });
  // Field order and string-typed numbers follow a real Apigee response.
  const body = {
    refresh_token_expires_in: String(opts.gatewayRefreshTtl),
    api_product_list: '[psd2-accounts]',
    api_product_list_json: ['psd2-accounts'],
    organization_name: 'op',
    'developer.email': 'dev@example.com',
    token_type: 'BearerToken',
    issued_at: String(now),
    client_id: GW_CLIENT_ID,
    access_token: gatewayToken(28),
    application_name: GW_APPLICATION_NAME,
    scope,
    expires_in: String(opts.accessTtl),
    refresh_count: String(refreshCount),
    status: 'approved',
    refresh_token: refreshToken,
    refresh_token_issued_at: String(now),
    refresh_token_status: 'approved',
  };
  const extra = extraParams(form);
  if (extra) body.request_attributes = extra;
  return body;
}

async function handleGateway(req, res, url) {
  const body = await readBody(req);
  const requestId = req.headers['x-request-id'];
  const echo = requestId !== undefined ? { 'x-request-id': requestId } : {};
  const fail = (status, code, message) => sendJson(res, status, { ErrorCode: code, Error: message }, echo);

  if (url.pathname !== '/gateway/token') return fail(404, 'not_found', 'Not Found');
  if (req.method !== 'POST') return fail(405, 'invalid_request', 'Method Not Allowed');
  if (req.headers['x-api-key'] !== GW_CLIENT_ID) {
    return fail(401, 'invalid_request', 'Missing or invalid x-api-key header');
  }

  const form = new URLSearchParams(body);
  const creds = gatewayClientCredentials(req, form);
  if (!creds || creds.id !== GW_CLIENT_ID || !safeEqual(creds.secret, GW_CLIENT_SECRET)) {
    return fail(401, 'invalid_client', 'ClientId is Invalid');
  }

  const grantType = form.get('grant_type');
  if (grantType === 'client_credentials') {
    return sendJson(res, 200, issueGatewayTokens({
      scope: form.get('scope') ?? '',
      refreshCount: 0,
      form,
    }), echo);
  }
  if (grantType === 'refresh_token') {
    const presented = form.get('refresh_token') ?? '';
    const stored = gatewayRefreshTokens.get(presented);
    // Single use: the presented token is gone whether or not it was valid.
    gatewayRefreshTokens.delete(presented);
    if (!stored || stored.expiresAt <= Date.now()) {
      return fail(400, 'invalid_grant', 'Invalid Refresh Token');
    }
    return sendJson(res, 200, issueGatewayTokens({
      scope: stored.scope,
      refreshCount: stored.refreshCount + 1,
      form,
    }), echo);
  }
  return fail(400, 'invalid_request', `Unsupported grant type : ${grantType ?? ''}`);
}

// ---------------------------------------------------------------------------
// Misbehaving endpoints: POST /broken/*
// ---------------------------------------------------------------------------

const VALID_TOKEN_JSON = (accessToken) => JSON.stringify({
  access_token: accessToken,
  token_type: 'Bearer',
  expires_in: opts.accessTtl,
  scope: 'api:read',
});

const BROKEN = {
  // Reverse proxy in front of a dead upstream.
  html: (res) => send(res, 502, `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`, 'text/html; charset=utf-8'),
  // SSO interceptor answering a token request with a login page.
  html200: (res) => send(res, 200, `<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body><h1>Please sign in</h1>
<form method="post" action="/login"><input name="username"><input name="password" type="password"><button>Sign in</button></form>
</body></html>
`, 'text/html; charset=utf-8'),
  empty: (res) => send(res, 500, '', undefined),
  badjson: (res) => send(res, 200, '{"access_token": "abc", "token_ty', 'application/json'),
  textjson: (res) => send(res, 200, VALID_TOKEN_JSON('textjson-token'), 'text/plain; charset=utf-8'),
  slow: (res, url) => {
    const raw = url.searchParams.get('ms') ?? '1000';
    const ms = Math.min(Math.max(Number.parseInt(raw, 10) || 0, 0), 10 * 60 * 1000);
    const timer = setTimeout(() => send(res, 200, VALID_TOKEN_JSON('slow-token'), 'application/json'), ms);
    // Client gave up (timeout test): drop the timer.
    res.on('close', () => clearTimeout(timer));
  },
  // DPoP: a token endpoint that wants a new nonce on every try, for ever.
  'dpop-nonce-loop': (res) => send(res, 400, JSON.stringify({
    error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof',
  }), 'application/json', { 'dpop-nonce': crypto.randomBytes(16).toString('base64url') }),
  // DPoP: a provider that ignores the proof and hands out a Bearer token.
  'dpop-bearer': (res) => send(res, 200, VALID_TOKEN_JSON('bearer-not-bound'), 'application/json'),
  // DPoP: a token bound to somebody else's key (cnf.jkt that is not the proof's).
  'dpop-other-key': (res) => {
    const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 300;
    const jwt = `${part({ alg: 'ES256', typ: 'at+jwt' })}.${part({ exp, cnf: { jkt: 'someone-elses-key-thumbprint' } })}.c2ln`;
    send(res, 200, JSON.stringify({ access_token: jwt, token_type: 'DPoP', expires_in: 300 }), 'application/json');
  },
};

async function handleBroken(req, res, url) {
  await readBody(req); // drain, so the client never sees a reset mid-upload
  const name = url.pathname.slice('/broken/'.length);
  const handler = Object.hasOwn(BROKEN, name) ? BROKEN[name] : undefined;
  if (!handler) return send(res, 404, 'not found\n', 'text/plain');
  if (req.method !== 'POST') return send(res, 405, 'method not allowed\n', 'text/plain', { allow: 'POST' });
  return handler(res, url);
}

// ---------------------------------------------------------------------------
// JWS verification (PS256) against a client's registered keys
// ---------------------------------------------------------------------------

const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Public KeyObjects of a client's registered `jwks`, by kid. */
function registeredKeys(clientId) {
  const jwks = CLIENTS.find((c) => c.client_id === clientId)?.jwks;
  return (jwks?.keys ?? []).map((jwk) => ({ kid: jwk.kid, key: crypto.createPublicKey({ key: jwk, format: 'jwk' }) }));
}

/**
 * Verifies a compact JWS signed PS256 by one of `clientId`'s registered keys. `detached`
 * (bytes) is the payload of a detached JWS (`header..signature`, RFC 7515 Appendix F); with
 * `"b64": false` in the header (RFC 7797, listed in `crit`) it is signed as is, else as
 * base64url. Returns { header, payload (Buffer) }; throws an Error saying what is wrong.
 */
function verifyPs256Jws(compact, clientId, detached) {
  if (typeof compact !== 'string') throw new Error('is missing');
  const parts = compact.trim().split('.');
  if (parts.length !== 3) throw new Error('is not a compact JWS (three dot-separated parts)');
  const [protectedB64, payloadB64, signatureB64] = parts;
  let header;
  try {
    header = b64urlJson(protectedB64);
  } catch {
    throw new Error('has a protected header that is not base64url JSON');
  }
  if (header === null || typeof header !== 'object') throw new Error('has a protected header that is not a JSON object');
  if (header.alg !== 'PS256') throw new Error(`must be signed PS256, header says alg ${JSON.stringify(header.alg)}`);
  const unencoded = header.b64 === false;
  if (unencoded && !(Array.isArray(header.crit) && header.crit.includes('b64'))) {
    throw new Error('has "b64": false without "crit": ["b64"]');
  }
  let signingInput;
  let payload;
  if (detached !== undefined) {
    if (payloadB64 !== '') throw new Error('must be detached (header..signature), but carries a payload');
    payload = detached;
    signingInput = Buffer.concat([
      Buffer.from(`${protectedB64}.`, 'ascii'),
      unencoded ? detached : Buffer.from(detached.toString('base64url'), 'ascii'),
    ]);
  } else {
    if (unencoded) throw new Error('must not use "b64": false');
    payload = Buffer.from(payloadB64, 'base64url');
    signingInput = Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii');
  }
  const keys = registeredKeys(clientId);
  const candidates = header.kid === undefined ? keys : keys.filter((k) => k.kid === header.kid);
  if (candidates.length === 0) {
    throw new Error(`names kid ${JSON.stringify(header.kid)}, which is not a registered key of ${clientId}`);
  }
  const signature = Buffer.from(signatureB64, 'base64url');
  const ok = candidates.some(({ key }) => crypto.verify('sha256', signingInput, {
    key,
    padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
    saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST,
  }, signature));
  if (!ok) throw new Error(`has a signature that does not verify with the registered key of ${clientId}`);
  return { header, payload };
}

// ---------------------------------------------------------------------------
// JWT-bearer grant (RFC 7523 §2.1), for PSD2 authorizations
// ---------------------------------------------------------------------------

/** Seconds an assertion may be past its exp (or before its nbf). */
const ASSERTION_LEEWAY = 5;
/** client_id + jti of assertions already used -> their exp (epoch s). */
const usedAssertions = new Map();

/**
 * Token endpoint handler: the client (authenticated as usual) presents `assertion`, a JWT it
 * signed PS256 with its registered key, naming a registered authorization in `authorizationId`.
 * Answers an opaque access token for the PSD2 API that remembers the authorizationId.
 */
async function jwtBearerGrant(ctx) {
  const { client, params } = ctx.oidc;
  const invalid = (description) => new errors.CustomOIDCProviderError('invalid_grant', description);
  if (!params.assertion) throw new errors.InvalidRequest("missing required parameter 'assertion'");

  let claims;
  try {
    const { payload } = verifyPs256Jws(params.assertion, client.clientId);
    claims = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw invalid(`assertion ${err instanceof SyntaxError ? 'payload is not JSON' : err.message}`);
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw invalid('assertion payload is not a JSON object');

  const now = Math.floor(Date.now() / 1000);
  if (claims.iss !== client.clientId) {
    throw invalid(`assertion iss must be the client_id ${JSON.stringify(client.clientId)}, got ${JSON.stringify(claims.iss)}`);
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') throw invalid('assertion has no sub');
  const audiences = [ctx.oidc.urlFor('token'), issuer];
  if (opts.tlsDir) audiences.push(`${issuer.replace('127.0.0.1', 'localhost')}/token`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => audiences.includes(a))) {
    throw invalid(`assertion aud must be the token endpoint ${audiences[0]} or the issuer ${issuer}, got ${JSON.stringify(claims.aud)}`);
  }
  if (typeof claims.exp !== 'number') throw invalid('assertion has no exp');
  if (claims.exp + ASSERTION_LEEWAY <= now) throw invalid(`assertion expired (exp ${claims.exp}, now ${now})`);
  if (typeof claims.nbf === 'number' && claims.nbf - ASSERTION_LEEWAY > now) {
    throw invalid(`assertion not valid yet (nbf ${claims.nbf}, now ${now})`);
  }
  const authorization = psd2Authorization(claims.authorizationId, client.clientId);
  if (claims.authorizationId === undefined) throw invalid('assertion has no authorizationId claim');
  if (!authorization) throw invalid(`unknown authorizationId ${JSON.stringify(claims.authorizationId)}`);
  if (typeof claims.jti === 'string') {
    for (const [k, exp] of usedAssertions) if (exp + ASSERTION_LEEWAY <= now) usedAssertions.delete(k);
    const key = `${client.clientId}\u0000${claims.jti}`;
    if (usedAssertions.has(key)) throw invalid(`assertion jti ${JSON.stringify(claims.jti)} already used`);
    usedAssertions.set(key, claims.exp);
  }

  // Scope: the PSD2 scopes asked for, else the authorization's own (accounts or payments).
  const requested = (params.scope ?? '').split(' ').filter(Boolean);
  const allowed = new Set(client.scope?.split(' '));
  const refused = requested.filter((s) => !allowed.has(s));
  if (refused.length) throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
  const psd2 = requested.filter((s) => PSD2_SCOPES.includes(s));
  const scope = (psd2.length ? psd2 : [authorization.scope]).join(' ');

  const token = new provider.ClientCredentials({ client, scope, expiresIn: opts.accessTtl });
  token.resourceServer = new provider.ResourceServer(PSD2_RESOURCE, psd2ResourceServerInfo());
  token.psd2AuthorizationId = claims.authorizationId; // -> extraTokenClaims
  ctx.oidc.entity('ClientCredentials', token);
  const value = await token.save();
  log(`jwt-bearer: ${client.clientId} sub=${claims.sub} authorizationId=${claims.authorizationId} scope=${scope}`);
  ctx.body = {
    access_token: value,
    token_type: token.tokenType,
    expires_in: token.expiration,
    scope: token.scope,
  };
}

// ---------------------------------------------------------------------------
// Token exchange (RFC 8693)
// ---------------------------------------------------------------------------

/**
 * Verifies a JWT this provider signed (an ID token, a JWT access token, an exchanged JWT):
 * its own key, its own issuer, not expired. Returns { header, claims }; throws with why not.
 */
function verifyOwnJwt(compact) {
  const parts = String(compact).split('.');
  if (parts.length !== 3) throw new Error('is neither a token this provider stored nor a JWT');
  let header;
  let claims;
  try {
    header = b64urlJson(parts[0]);
    claims = b64urlJson(parts[1]);
  } catch {
    throw new Error('is not a readable JWT');
  }
  const jwk = SIGNING_JWKS.keys.find((k) => k.kid === header.kid);
  if (!jwk || header.alg !== 'RS256') throw new Error(`was not signed by this provider (kid ${JSON.stringify(header.kid)})`);
  const key = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  if (!crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'), key, Buffer.from(parts[2], 'base64url'))) {
    throw new Error("has a signature that does not verify with this provider's key");
  }
  if (claims.iss !== issuer) throw new Error(`was issued by ${JSON.stringify(claims.iss)}, not ${issuer}`);
  if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(Date.now() / 1000)) throw new Error('has expired');
  return { header, claims };
}

/** Signs claims as a JWT with the provider's key (RS256). */
function signOwnJwt(claims, typ) {
  const jwk = SIGNING_JWKS.keys[0];
  const header = { alg: 'RS256', kid: jwk.kid, typ };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const key = crypto.createPrivateKey({ key: jwk, format: 'jwk' });
  return `${input}.${crypto.sign('sha256', Buffer.from(input, 'ascii'), key).toString('base64url')}`;
}

/**
 * Who a subject or actor token stands for: { sub, clientId }. Access tokens: an opaque one
 * this provider stored (found by value), or a JWT access token it signed (typ at+jwt); ID
 * tokens: a JWT it signed that is not an access token. Throws with why it is refused.
 */
async function exchangedParty(value, type) {
  if (type === TOKEN_TYPE('access_token')) {
    const stored = await provider.AccessToken.find(value) ?? await provider.ClientCredentials.find(value);
    if (stored) {
      if (stored.isExpired) throw new Error('has expired');
      return { sub: stored.extra?.exchanged_sub ?? stored.accountId ?? stored.clientId, clientId: stored.clientId };
    }
    const { header, claims } = verifyOwnJwt(value);
    if (header.typ !== 'at+jwt') throw new Error('is a JWT of this provider, but not an access token (typ at+jwt)');
    return { sub: claims.sub ?? claims.client_id, clientId: claims.client_id };
  }
  if (type === TOKEN_TYPE('id_token')) {
    const { header, claims } = verifyOwnJwt(value);
    if (header.typ === 'at+jwt') throw new Error('is an access token, not an ID token');
    if (typeof claims.sub !== 'string') throw new Error('has no sub');
    return { sub: claims.sub, clientId: claims.azp ?? [claims.aud].flat()[0] };
  }
  throw new errors.InvalidRequest(`unsupported token type ${JSON.stringify(type)} (this provider exchanges ${TOKEN_TYPE('access_token')} and ${TOKEN_TYPE('id_token')})`);
}

async function tokenExchangeGrant(ctx) {
  const { client, params } = ctx.oidc;
  const party = async (role) => {
    const value = params[`${role}_token`];
    const type = params[`${role}_token_type`];
    if (!value) {
      if (type) throw new errors.InvalidRequest(`${role}_token_type without ${role}_token`);
      if (role === 'subject') throw new errors.InvalidRequest("missing required parameter 'subject_token'");
      return undefined;
    }
    if (!type) throw new errors.InvalidRequest(`missing required parameter '${role}_token_type'`);
    try {
      return await exchangedParty(value, type);
    } catch (err) {
      if (err instanceof errors.OIDCProviderError) throw err;
      throw new errors.CustomOIDCProviderError('invalid_grant', `${role}_token ${err.message}`);
    }
  };
  const subject = await party('subject');
  const actor = await party('actor');
  const audience = params.audience ?? EXCHANGE_AUDIENCES[0];
  if (!EXCHANGE_AUDIENCES.includes(audience)) {
    throw new errors.InvalidTarget(`unknown audience ${JSON.stringify(audience)} (known: ${EXCHANGE_AUDIENCES.join(', ')})`);
  }
  const requested = (params.scope ?? '').split(' ').filter(Boolean);
  const allowed = new Set(client.scope?.split(' '));
  const refused = requested.filter((s) => !allowed.has(s));
  if (refused.length) throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
  const scope = requested.join(' ');
  const act = actor ? { act: { sub: actor.sub } } : {};
  const wanted = params.requested_token_type ?? TOKEN_TYPE('access_token');

  if (wanted === TOKEN_TYPE('access_token')) {
    const token = new provider.ClientCredentials({ client, scope, expiresIn: opts.accessTtl });
    token.resourceServer = new provider.ResourceServer(audience, { scope, audience, accessTokenFormat: 'opaque' });
    token.exchange = { exchanged_sub: subject.sub, ...act }; // -> extraTokenClaims
    ctx.oidc.entity('ClientCredentials', token);
    const value = await token.save();
    log(`token-exchange: ${client.clientId} sub=${subject.sub}${actor ? ` act=${actor.sub}` : ''} aud=${audience}`);
    ctx.body = {
      access_token: value,
      issued_token_type: TOKEN_TYPE('access_token'),
      token_type: token.tokenType,
      expires_in: token.expiration,
      scope: token.scope,
    };
    return;
  }
  if (wanted === TOKEN_TYPE('jwt')) {
    // Not an OAuth access token: token_type N_A (RFC 8693 §2.2.1).
    const now = Math.floor(Date.now() / 1000);
    const jwt = signOwnJwt({
      iss: issuer, sub: subject.sub, aud: audience, client_id: client.clientId, iat: now,
      exp: now + opts.accessTtl, jti: crypto.randomUUID(), ...act, ...(scope ? { scope } : {}),
    }, 'JWT');
    ctx.body = {
      access_token: jwt,
      issued_token_type: TOKEN_TYPE('jwt'),
      token_type: 'N_A',
      expires_in: opts.accessTtl,
    };
    return;
  }
  throw new errors.InvalidRequest(`requested_token_type ${JSON.stringify(wanted)} is not issued here (${TOKEN_TYPE('access_token')} or ${TOKEN_TYPE('jwt')})`);
}

// ---------------------------------------------------------------------------
// PSD2 API (OP Financial Group style): /accounts-psd2/v1/*, /payments-psd2/v1/*
// ---------------------------------------------------------------------------

/** API keys (x-api-key) the PSD2 gateway knows: the client ids of its TPPs. */
const PSD2_API_KEYS = new Set([PSD2_CLIENT_ID]);
/** x-idempotency-key -> { body, response } of payments already made. */
const paymentsByIdempotencyKey = new Map();
const SANDBOX_ACCOUNTS = [{ iban: 'FI00 0000 0000 0000 00', name: 'Sandbox account' }];

/**
 * Finds the bearer token of a PSD2 API request: an opaque access token (code flow) or
 * client-credentials / JWT-bearer token, issued to the client named by x-api-key.
 * Returns { token } or { fail: [status, body, headers] }.
 */
async function psd2Bearer(req, apiKey) {
  const auth = req.headers.authorization ?? '';
  const m = /^bearer\s+(\S+)\s*$/i.exec(auth);
  const unauthorized = (description) => ({
    fail: [401, { error: 'invalid_token', error_description: description },
      { 'www-authenticate': `Bearer realm="psd2", error="invalid_token", error_description="${description}"` }],
  });
  if (!m) return unauthorized(auth ? 'Authorization is not a Bearer token' : 'no Authorization: Bearer token');
  const value = m[1];
  const token = await provider.AccessToken.find(value) ?? await provider.ClientCredentials.find(value);
  if (!token || token.isExpired) return unauthorized('the access token is unknown, expired or revoked');
  if (token.clientId !== apiKey) return unauthorized(`the access token was issued to ${token.clientId}, not to the x-api-key client ${apiKey}`);
  return { token };
}

/** The authorizationId a token was issued for (code flow claims, or JWT-bearer), if any. */
function tokenAuthorizationId(token) {
  if (token.kind === 'ClientCredentials') return token.extra?.authorizationId;
  return requestedAuthorizationId(token.claims);
}

async function handlePsd2(req, res, url) {
  const raw = await readRawBody(req);
  const echo = {};
  for (const h of ['x-request-id', 'x-fapi-interaction-id']) {
    if (req.headers[h] !== undefined) echo[h] = req.headers[h];
  }
  const reply = (status, body, headers = {}) => sendJson(res, status, body, { ...echo, ...headers });

  const routes = {
    '/accounts-psd2/v1/authorizations': { method: 'POST', scope: 'accounts' },
    '/accounts-psd2/v1/accounts': { method: 'GET' },
    '/payments-psd2/v1/sepa-payments': { method: 'POST', scope: 'payments' },
  };
  const route = routes[url.pathname.replace(/\/+$/, '')];
  if (!route) return reply(404, { error: 'not_found', error_description: `no PSD2 API at ${url.pathname}` });
  if (req.method !== route.method) {
    return reply(405, { error: 'method_not_allowed', error_description: `use ${route.method}` }, { allow: route.method });
  }
  if (!oidcCallback) return reply(503, { error: 'temporarily_unavailable' });

  // Gateway first (API key), then the token.
  const apiKey = req.headers['x-api-key'];
  if (apiKey === undefined || apiKey === '') {
    return reply(401, { error: 'missing_api_key', error_description: 'the x-api-key header is required' });
  }
  if (!PSD2_API_KEYS.has(apiKey)) {
    return reply(401, { error: 'invalid_api_key', error_description: `unknown x-api-key ${JSON.stringify(apiKey)}` });
  }
  const { token, fail } = await psd2Bearer(req, apiKey);
  if (fail) return reply(...fail);
  if (route.scope && !token.scopes.has(route.scope)) {
    return reply(403, {
      error: 'insufficient_scope',
      error_description: `the access token lacks scope ${route.scope} (has ${JSON.stringify(token.scope ?? '')})`,
    }, { 'www-authenticate': `Bearer realm="psd2", error="insufficient_scope", scope="${route.scope}"` });
  }

  if (route.method === 'GET') {
    // /accounts: only with a token obtained for a registered authorization.
    const authorizationId = tokenAuthorizationId(token);
    if (!psd2Authorization(authorizationId, token.clientId)) {
      return reply(403, {
        error: 'consent_required',
        error_description: 'the access token was not issued for a registered authorizationId',
      });
    }
    return reply(200, { accounts: SANDBOX_ACCOUNTS, authorizationId });
  }

  if (url.pathname.startsWith('/payments-psd2/')) {
    for (const h of ['x-idempotency-key', 'x-fapi-interaction-id']) {
      if (!req.headers[h]) return reply(400, { error: 'missing_header', error_description: `the ${h} header is required`, header: h });
    }
    try {
      verifyPs256Jws(req.headers['x-jws-signature'], token.clientId, raw);
    } catch (err) {
      return reply(400, { error: 'invalid_signature', error_description: `x-jws-signature header ${err.message}` });
    }
  }

  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return reply(400, { error: 'invalid_request', error_description: 'the request body is not JSON' });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return reply(400, { error: 'invalid_request', error_description: 'the request body must be a JSON object' });
  }

  if (url.pathname.startsWith('/accounts-psd2/')) {
    for (const field of ['expires', 'transactionFrom', 'transactionTo']) {
      if (body[field] === undefined || body[field] === null || body[field] === '') {
        return reply(400, { error: 'invalid_request', error_description: `missing field ${field}`, field });
      }
    }
    const authorizationId = crypto.randomUUID();
    psd2Authorizations.set(authorizationId, {
      type: 'consent', clientId: token.clientId, scope: 'accounts', status: 'pending', request: body,
    });
    log(`psd2: consent ${authorizationId} for ${token.clientId}`);
    return reply(201, { authorizationId, status: 'pending' });
  }

  // SEPA payment: idempotent per x-idempotency-key.
  const idempotencyKey = `${token.clientId}\u0000${req.headers['x-idempotency-key']}`;
  const previous = paymentsByIdempotencyKey.get(idempotencyKey);
  if (previous) {
    if (!previous.body.equals(raw)) {
      return reply(409, { error: 'idempotency_key_reused', error_description: 'x-idempotency-key was used for another payment' });
    }
    return reply(201, previous.response);
  }
  const authorizationId = crypto.randomUUID();
  const paymentId = crypto.randomUUID();
  psd2Authorizations.set(authorizationId, {
    type: 'payment', clientId: token.clientId, scope: 'payments', status: 'pending', request: body, paymentId,
  });
  const response = { authorizationId, paymentId, status: 'pending' };
  paymentsByIdempotencyKey.set(idempotencyKey, { body: raw, response });
  log(`psd2: payment ${paymentId} (authorization ${authorizationId}) for ${token.clientId}`);
  return reply(201, response);
}

// ---------------------------------------------------------------------------
// Server wiring
// ---------------------------------------------------------------------------

// The issuer must contain the real port, which is only known after listen()
// when --port 0. So: listen first, then build the provider, then route.
let oidcCallback = null;

const tls = opts.tlsDir && {
  cert: fs.readFileSync(path.join(opts.tlsDir, 'server.pem')),
  key: fs.readFileSync(path.join(opts.tlsDir, 'server.key')),
  ca: fs.readFileSync(path.join(opts.tlsDir, 'ca.pem')),
  // Ask every client for a certificate, but let oidc-provider judge it (and answer
  // invalid_client) rather than failing the handshake.
  requestCert: true,
  rejectUnauthorized: false,
};
const server = (tls ? (handler) => https.createServer(tls, handler) : http.createServer)((req, res) => {
  const started = Date.now();
  res.on('finish', () => log(`${req.method} ${req.url} -> ${res.statusCode} (${Date.now() - started} ms)`));
  if (opts.clockOffset) res.setHeader('date', new Date(started + opts.clockOffset * 1000).toUTCString());

  const url = new URL(req.url, 'http://127.0.0.1');
  const custom = url.pathname.startsWith('/gateway/') ? handleGateway
    : url.pathname.startsWith('/broken/') ? handleBroken
      : /^\/(accounts|payments)-psd2\//.test(url.pathname) ? handlePsd2
        : null;
  if (!custom && isTestApiPath(url.pathname)) {
    const verify = async (token) => {
      try { return verifyOwnJwt(token).claims; } catch { return null; }
    };
    handleTestApi(req, res, url, { issuer, sendJson, send, verify }).catch((err) => {
      console.error('[provider] test API error:', err);
      if (!res.headersSent) send(res, 500, 'internal error\n', 'text/plain');
    });
    return undefined;
  }
  if (custom) {
    custom(req, res, url).catch((err) => {
      console.error('[provider] handler error:', err);
      if (!res.headersSent) send(res, 500, 'internal error\n', 'text/plain');
      else res.destroy();
    });
    return;
  }
  if (!oidcCallback) return send(res, 503, 'starting\n', 'text/plain');
  if (url.pathname.startsWith('/test/ciba/')) {
    handleCibaTest(req, res, url, { provider, errors, log, sendJson }).catch((err) => {
      console.error('[provider] ciba test route error:', err);
      if (!res.headersSent) sendJson(res, 500, { error: String(err?.message ?? err) });
    });
    return undefined;
  }
  if (req.method === 'POST' && CLIENT_AUTH_PATHS.has(url.pathname)) {
    rejectWrongClientAuthMethod(req, res).then((handled) => {
      if (!handled && !deviceSlowDown(req, res, url) && !cibaSlowDown(req, res, url, { opts, log, sendJson })) oidcCallback(req, res);
    }, (err) => {
      console.error('[provider] client auth check failed:', err);
      if (!res.headersSent) send(res, 400, 'bad request\n', 'text/plain');
    });
    return undefined;
  }
  return oidcCallback(req, res);
});

server.on('clientError', (err, socket) => socket.destroy());

try {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
} catch (err) {
  console.error(`[provider] cannot listen on 127.0.0.1:${opts.port}: ${err.code ?? err.message}`);
  process.exit(1);
}
const { port } = server.address();
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;

const provider = new Provider(issuer, providerConfiguration());
provider.proxy = false;

provider.registerGrantType(JWT_BEARER_GRANT, jwtBearerGrant, ['assertion', 'scope']);
deliverPings(provider, opts);
provider.registerGrantType(TOKEN_EXCHANGE_GRANT, tokenExchangeGrant, [
  'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type',
  'requested_token_type', 'audience', 'scope',
]);

// psd2-tpp logins get an acr (oidc-provider's dev login form sets none): SCA, unless the
// request asked only for other values. It satisfies an essential acr in the claims parameter.
const interactionResult = provider.interactionResult.bind(provider);
provider.interactionResult = async (req, res, result, options) => {
  if (result?.login && result.login.acr === undefined) {
    const { params } = await provider.interactionDetails(req, res);
    if (params.client_id === PSD2_CLIENT_ID) result.login.acr = psd2LoginAcr(params);
    // Any other client asking for the multi-factor acr "passes" it (the test API's step-up).
    else if (String(params.acr_values ?? '').split(' ').includes(ACR_MFA)) result.login.acr = ACR_MFA;
  }
  return interactionResult(req, res, result, options);
};

// Front-channel ID tokens (hybrid `code id_token`): oidc-provider adds c_hash, but s_hash only
// under FAPI 1.0; add it whenever `state` was sent. --tamper-hybrid breaks either on purpose
// (the hash of something else: well-formed, wrong).
const idTokenIssue = provider.IdToken.prototype.issue;
provider.IdToken.prototype.issue = async function issue(options = {}) {
  if (options.use === 'idtoken' && this.extra.c_hash !== undefined) {
    const state = this.ctx?.oidc?.params?.state;
    if (state && this.extra.s_hash === undefined) this.extra.s_hash = state;
    for (const claim of opts.tamperHybrid) {
      if (this.extra[claim] !== undefined) {
        log(`tampering with the front-channel ID token's ${claim} (--tamper-hybrid)`);
        this.extra[claim] = `${this.extra[claim]}.tampered`;
      }
    }
  }
  return idTokenIssue.call(this, options);
};

// Surface provider-side failures on stderr: invaluable when a test fails.
for (const event of [
  'authorization.error', 'grant.error', 'introspection.error', 'revocation.error',
  'userinfo.error', 'end_session.error', 'server_error', 'discovery.error', 'jwks.error',
  'pushed_authorization_request.error', 'backchannel_authentication.error',
]) {
  provider.on(event, (ctx, err) => {
    // error_detail / cause hold the real reason behind e.g. "grant request is invalid".
    const detail = err?.error_detail ?? err?.cause?.message;
    log(`${event}: ${err?.error ?? err?.name} ${err?.error_description ?? err?.message ?? ''}${detail ? ` (${detail})` : ''}`);
    if (event === 'server_error') console.error(err);
  });
}
// oidc-provider 9 sends no `interval` (RFC 8628 §3.2 then means 5 s): announce
// --device-interval, so tests need not wait 5 s per poll. device-expiring's answer overstates
// how long its code lives (see its client).
provider.on('device_authorization.success', (ctx, body) => {
  deviceCodeExpiry.set(body.device_code, Date.now() + body.expires_in * 1000);
  body.interval = opts.deviceInterval;
  if (ctx.oidc.client?.clientId === 'device-expiring') body.expires_in = DEVICE_TTL;
});
provider.on('grant.success', (ctx) => log(`grant.success: ${ctx.oidc.params.grant_type} client=${ctx.oidc.client?.clientId}`));

oidcCallback = provider.callback();

const clientKeys = Object.fromEntries(Object.entries(CLIENT_KEYS).map(([id, k]) => [id, k.pem]));
// --registration iat: the one initial access token that lets a client register.
const initialAccessToken = opts.registration === 'iat' ? await new provider.InitialAccessToken({}).save() : undefined;
const softwareStatementKeys = DIRECTORY_KEYS && { rsa: DIRECTORY_KEYS.rsa.privatePem, ec: DIRECTORY_KEYS.ec.privatePem };
process.stdout.write(`${JSON.stringify({ issuer, port, client_keys: clientKeys, initial_access_token: initialAccessToken, software_statement_keys: softwareStatementKeys })}\n`);
log(`listening on ${issuer} (access-ttl=${opts.accessTtl}s refresh-ttl=${opts.refreshTtl}s id-ttl=${opts.idTtl}s cc-ttl=${opts.ccTtl}s gateway-refresh-ttl=${opts.gatewayRefreshTtl}s${opts.tamperHybrid.size ? ` tamper-hybrid=${[...opts.tamperHybrid].join(',')}` : ''})`);

// ---------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------

let stopping = false;
function shutdown(reason) {
  if (stopping) return;
  stopping = true;
  log(`shutting down (${reason})`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// Only watch stdin when it is a pipe/socket (what a test harness passes).
// /dev/null or a closed stdin would otherwise end the server immediately,
// e.g. for `node server.mjs &` in a non-interactive shell.
let stdinStat = null;
try { stdinStat = fs.fstatSync(0); } catch { /* no stdin at all */ }
if (stdinStat && (stdinStat.isFIFO() || stdinStat.isSocket())) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume(); // flowing mode: data is discarded, 'end' fires at EOF
}
// A parent that closed our stdout is gone too; don't die on EPIPE later.
process.stdout.on('error', () => {});
