#!/usr/bin/env node
// TokenDesk test authorization server.
//
// A real OAuth 2.0 / OpenID Connect provider (oidc-provider 9.13.3) on
// 127.0.0.1, plus two hand-written extras on the same port:
//   * /gateway/token  - an Apigee-style bank API gateway token endpoint
//   * /broken/*       - endpoints that misbehave, for error-handling tests
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

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

const USAGE = `usage: node server.mjs [--port N] [--access-ttl S] [--refresh-ttl S] [--id-ttl S]
                      [--cc-ttl S] [--gateway-refresh-ttl S] [--tls-dir DIR] [--quiet]`;

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
  return {
    port,
    accessTtl,
    refreshTtl: int('refresh-ttl', 1),
    idTtl: int('id-ttl', 1),
    ccTtl: int('cc-ttl', 1),
    gatewayRefreshTtl: int('gateway-refresh-ttl', 1),
    quiet: values.quiet,
    tlsDir: values['tls-dir'],
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
const CLIENT_KEYS = {
  'cc-jwt': clientKeyPair('rsa', 'cc-jwt-rsa'),
  'cc-jwt-ec': clientKeyPair('ec', 'cc-jwt-ec'),
  'web-app-jwt': clientKeyPair('rsa', 'web-app-jwt-rsa'),
  'web-app-jar': clientKeyPair('ec', 'web-app-jar-ec'),
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
  interactiveClient({
    client_id: 'public-app',
    token_endpoint_auth_method: 'none',
  }),
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
];

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

/** A fresh RS256 signing key per run (instead of oidc-provider's dev keystore). */
function signingJwks() {
  const { privateKey } = newKeyPair('rsa');
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `tokendesk-test-${crypto.randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' }] };
}

function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

function providerConfiguration() {
  const DAY = 24 * 60 * 60;
  return {
    clients: CLIENTS,
    clientAuthMethods: [
      'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none',
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
    jwks: signingJwks(),
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
    scopes: ['openid', 'offline_access', ...API_SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    async findAccount(ctx, sub) {
      // Any login name is a valid account; it becomes `sub`.
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: capitalize(sub),
            email: `${sub}@example.com`,
            email_verified: true,
          };
        },
      };
    },
    features: {
      devInteractions: { enabled: true }, // built-in login + consent pages
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      requestObjects: { enabled: true },
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
      resourceIndicators: {
        enabled: true,
        // Decides which resource a request is for when it names none.
        //  * client_credentials: always the API (=> JWT access token).
        //  * authorization request: the API only when an api:* scope is asked
        //    for. Otherwise no resource, and the access token issued for the
        //    code is opaque and usable at userinfo (oidc-provider only issues
        //    userinfo-capable tokens for requests without a resource).
        // `oneOf` is set when a stored grant holds several resources.
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf.includes(API_RESOURCE) ? API_RESOURCE : oneOf;
          if (ctx.oidc.params?.grant_type === 'client_credentials') return API_RESOURCE;
          if (requestsApiScope(ctx.oidc.params?.scope)) return API_RESOURCE;
          return undefined;
        },
        // Token/refresh requests reuse the resource granted at authorization.
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(ctx, resourceIndicator) {
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
      Interaction: 60 * 60,
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
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
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

const CLIENT_AUTH_PATHS = new Set(['/token', '/token/introspection', '/token/revocation', '/request']);
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

  const url = new URL(req.url, 'http://127.0.0.1');
  const custom = url.pathname.startsWith('/gateway/') ? handleGateway
    : url.pathname.startsWith('/broken/') ? handleBroken
      : null;
  if (custom) {
    custom(req, res, url).catch((err) => {
      console.error('[provider] handler error:', err);
      if (!res.headersSent) send(res, 500, 'internal error\n', 'text/plain');
      else res.destroy();
    });
    return;
  }
  if (!oidcCallback) return send(res, 503, 'starting\n', 'text/plain');
  if (req.method === 'POST' && CLIENT_AUTH_PATHS.has(url.pathname)) {
    rejectWrongClientAuthMethod(req, res).then((handled) => {
      if (!handled) oidcCallback(req, res);
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

// Surface provider-side failures on stderr: invaluable when a test fails.
for (const event of [
  'authorization.error', 'grant.error', 'introspection.error', 'revocation.error',
  'userinfo.error', 'end_session.error', 'server_error', 'discovery.error', 'jwks.error',
]) {
  provider.on(event, (ctx, err) => {
    // error_detail / cause hold the real reason behind e.g. "grant request is invalid".
    const detail = err?.error_detail ?? err?.cause?.message;
    log(`${event}: ${err?.error ?? err?.name} ${err?.error_description ?? err?.message ?? ''}${detail ? ` (${detail})` : ''}`);
    if (event === 'server_error') console.error(err);
  });
}
provider.on('grant.success', (ctx) => log(`grant.success: ${ctx.oidc.params.grant_type} client=${ctx.oidc.client?.clientId}`));

oidcCallback = provider.callback();

const clientKeys = Object.fromEntries(Object.entries(CLIENT_KEYS).map(([id, k]) => [id, k.pem]));
process.stdout.write(`${JSON.stringify({ issuer, port, client_keys: clientKeys })}\n`);
log(`listening on ${issuer} (access-ttl=${opts.accessTtl}s refresh-ttl=${opts.refreshTtl}s id-ttl=${opts.idTtl}s cc-ttl=${opts.ccTtl}s gateway-refresh-ttl=${opts.gatewayRefreshTtl}s)`);

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
