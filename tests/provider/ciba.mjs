// OpenID CIBA (Client-Initiated Backchannel Authentication) for the test provider: the hooks
// features.ciba needs, the CIBA clients, slow_down (oidc-provider never says it), and test
// routes that play the user's authentication device:
//
//   GET  /test/ciba/pending[?login_hint=H]     the pending requests, newest first:
//        [{login_hint, binding_message, client_id, scope, authorization_details, expires_at}]
//   POST /test/ciba/approve?login_hint=H[&deny=1]
//        approves (or denies: access_denied) the newest pending request for H; answers
//        {"approved": true} / {"denied": true}, 404 when none is pending. In ping mode the
//        provider then notifies the client's backchannel_client_notification_endpoint.
//
// Any login_hint names an account (it becomes `sub`), except one starting with "unknown",
// which is answered unknown_user_id. A binding message must match oidc-provider's default
// rule (1-20 of A-Z a-z 0-9 - . _ + / ! ? #).

import { RAR_TYPES } from './rar.mjs';

export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

/** auth_req_id -> what the "device" shows: { loginHint, bindingMessage, clientId, ... } */
const pending = new Map();
/** auth_req_id -> { polls, last, intervalMs } for ciba-slow */
const slowPolls = new Map();

/**
 * The CIBA clients:
 *   ciba-app    client_secret_basic, poll mode
 *   ciba-ping   client_secret_basic, ping mode; notifications go to --ciba-notify URL
 *   ciba-slow   client_secret_basic, poll; its second poll of a request, and any poll sooner
 *               than the request's interval, is answered slow_down (+5 s each)
 */
export const cibaClient = (overrides) => ({
  client_secret: `${overrides.client_id}-secret`,
  grant_types: [CIBA_GRANT, 'refresh_token'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
  backchannel_token_delivery_mode: 'poll',
  backchannel_user_code_parameter: true,
  authorization_details_types: RAR_TYPES,
  scope: 'openid offline_access profile email api:read',
  ...overrides,
});

export function cibaClients(opts) {
  const client = cibaClient;
  return [
    client({ client_id: 'ciba-app' }),
    client({
      client_id: 'ciba-ping',
      backchannel_token_delivery_mode: 'ping',
      // oidc-provider takes only https here; deliverPings() sends to --ciba-notify as given.
      backchannel_client_notification_endpoint: opts.cibaNotify.replace(/^http:/, 'https:'),
    }),
    client({ client_id: 'ciba-slow' }),
  ];
}

/** features.ciba; `errors` is oidc-provider's (imported by server.mjs). */
export function cibaFeature(opts, log, errors) {
  return {
    enabled: true,
    deliveryModes: ['poll', 'ping'],
    async processLoginHint(ctx, loginHint) {
      return loginHint.startsWith('unknown') ? undefined : loginHint;
    },
    async processLoginHintToken(ctx, loginHintToken) {
      // A login_hint_token here is just "hint:<account>".
      return loginHintToken.startsWith('hint:') ? loginHintToken.slice(5) : undefined;
    },
    async verifyUserCode(ctx, account, userCode) {
      if (userCode !== undefined && userCode !== '0000') throw new errors.InvalidUserCode('wrong user_code');
    },
    async validateRequestContext() {},
    async triggerAuthenticationDevice(ctx, request, account, client) {
      const { params } = request;
      pending.set(request.jti, {
        request,
        loginHint: params.login_hint ?? params.login_hint_token ?? account.accountId,
        bindingMessage: params.binding_message,
        clientId: client.clientId,
        scope: request.scope,
        authorizationDetails: params.authorization_details,
        at: Date.now(),
        expiresAt: Date.now() + request.expiration * 1000,
      });
      // oidc-provider sends no interval (CIBA Core then means 5 s): announce --ciba-interval.
      ctx.body.interval = opts.cibaInterval;
      log(`ciba: request for ${account.accountId} from ${client.clientId} (binding message ${JSON.stringify(params.binding_message)})`);
    },
  };
}

/** slow_down for ciba-slow (oidc-provider never says it). True when it answered. */
export function cibaSlowDown(req, res, url, { opts, log, sendJson }) {
  if (url.pathname !== '/token' || typeof req.body !== 'string') return false;
  const form = new URLSearchParams(req.body);
  if (form.get('grant_type') !== CIBA_GRANT) return false;
  const id = form.get('auth_req_id') ?? '';
  const entry = pending.get(id);
  if (entry?.clientId !== 'ciba-slow') return false;
  const now = Date.now();
  const st = slowPolls.get(id) ?? { polls: 0, last: 0, intervalMs: opts.cibaInterval * 1000 };
  slowPolls.set(id, st);
  st.polls += 1;
  const gap = st.last ? now - st.last : Infinity;
  st.last = now;
  if (st.polls !== 2 && gap >= st.intervalMs) return false;
  st.intervalMs += 5000;
  log(`ciba-slow: slow_down (poll ${st.polls}; interval now ${st.intervalMs / 1000} s)`);
  sendJson(res, 400, { error: 'slow_down', error_description: `poll at most every ${st.intervalMs / 1000} s` });
  return true;
}

function newest(loginHint, url) {
  const id = url.searchParams.get('auth_req_id');
  const list = [...pending.entries()]
    .filter(([k, p]) => (id ? k === id : (!loginHint || p.loginHint === loginHint)))
    .filter(([, p]) => p.expiresAt > Date.now())
    .sort(([, a], [, b]) => b.at - a.at);
  return list[0];
}

/** The /test/ciba/ routes. */
export async function handleCibaTest(req, res, url, { provider, errors, log, sendJson }) {
  const loginHint = url.searchParams.get('login_hint');
  if (req.method === 'GET' && url.pathname === '/test/ciba/pending') {
    const list = [...pending.values()]
      .filter((p) => p.expiresAt > Date.now() && (!loginHint || p.loginHint === loginHint))
      .sort((a, b) => b.at - a.at)
      .map((p) => ({
        login_hint: p.loginHint,
        binding_message: p.bindingMessage,
        client_id: p.clientId,
        scope: p.scope,
        authorization_details: p.authorizationDetails ? JSON.parse(p.authorizationDetails) : undefined,
        expires_at: p.expiresAt,
      }));
    return sendJson(res, 200, list);
  }
  if (req.method === 'POST' && url.pathname === '/test/ciba/approve') {
    const found = newest(loginHint, url);
    if (!found) return sendJson(res, 404, { error: 'no pending request' });
    const [id, p] = found;
    pending.delete(id);
    const { request } = p;
    if (url.searchParams.get('deny')) {
      try {
        await provider.backchannelResult(request, new errors.AccessDenied('the user denied the request'));
      } catch (err) {
        log(`ciba: ping failed: ${err.message}`);
      }
      log(`ciba: denied ${p.loginHint}'s request`);
      return sendJson(res, 200, { denied: true });
    }
    const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
    grant.addOIDCScope(request.scope);
    if (request.resource) grant.addResourceScope(request.resource, request.scope);
    if (request.claims) grant.addOIDCClaims(Object.keys(request.claims.id_token ?? {}));
    await grant.save();
    const rar = p.authorizationDetails ? JSON.parse(p.authorizationDetails) : undefined;
    try {
      await provider.backchannelResult(request, grant, {
        authTime: Math.floor(Date.now() / 1000),
        ...(rar ? { rar } : {}),
      });
    } catch (err) {
      // The result is saved before the ping: a client not listening only misses the ping.
      log(`ciba: ping failed: ${err.message}`);
    }
    log(`ciba: approved ${p.loginHint}'s request`);
    return sendJson(res, 200, { approved: true });
  }
  return sendJson(res, 404, { error: 'no such test route' });
}

/**
 * Pings go to --ciba-notify as given (http on loopback, where TokenDesk listens), though the
 * client is registered with its https form (all oidc-provider accepts).
 */
export function deliverPings(provider, opts) {
  provider.Client.prototype.backchannelPing = async function backchannelPing(request) {
    const response = await fetch(opts.cibaNotify, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        authorization: `Bearer ${request.params.client_notification_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ auth_req_id: request.jti }),
    });
    if (response.status !== 204 && response.status !== 200) {
      throw new Error(`expected 204 No Content from ${opts.cibaNotify}, got ${response.status}`);
    }
  };
}
