// A small protected API on the provider's port, for "start from an API URL" (RFC 9728
// protected-resource metadata, RFC 8707 resource indicators): the well-behaved API at /api/*
// and one fixture per way the discovery chain can break. See README.md, "Protected API".

/** The scopes of the test API (its resource is `${issuer}/api`). */
export const TEST_API_SCOPES = ['api:read', 'api:write'];

/** Paths this module answers. */
export function isTestApiPath(pathname) {
  return /^\/(api|api-[a-z-]+|fake-as)(\/|$)/.test(pathname)
    || pathname.startsWith('/.well-known/oauth-protected-resource')
    || pathname.startsWith('/.well-known/oauth-authorization-server/fake-as/');
}

/** The resource of the well-behaved API. */
export const testApiResource = (issuer) => `${issuer}/api`;

function prm(issuer, resource, extra = {}) {
  return {
    resource,
    authorization_servers: [issuer],
    scopes_supported: TEST_API_SCOPES,
    bearer_methods_supported: ['header'],
    resource_name: 'TokenDesk test API',
    ...extra,
  };
}

/**
 * Answers a request to the test API or one of its fixtures. `verify(token)` returns the access
 * token's claims (`aud`, `scope`, `acr`, `auth_time`) or null when the token is not valid.
 */
export async function handleTestApi(req, res, url, { issuer, sendJson, send, verify }) {
  const p = url.pathname;
  const json = (status, body, headers) => sendJson(res, status, body, headers);
  const wellKnown = '/.well-known/oauth-protected-resource';
  const metaUrl = (suffix) => `${issuer}${wellKnown}${suffix}`;
  const challenge = (extra) => ({ 'www-authenticate': `Bearer ${extra}` });
  const unauthorized = (extra) => json(401, { error: 'unauthorized' }, challenge(extra));

  // Protected-resource metadata documents.
  const documents = {
    '/api': prm(issuer, `${issuer}/api`),
    // Found at the path-inserted well-known location only (its 401 names no metadata).
    '/api-wk/me': prm(issuer, `${issuer}/api-wk`),
    '/api-wrong': prm(issuer, 'https://elsewhere.example/api-wrong'),
    // Its authorization server's metadata names another issuer (127.0.0.1, not localhost).
    '/api-badissuer': prm(issuer, `${issuer}/api-badissuer`, {
      authorization_servers: [issuer.replace('127.0.0.1', 'localhost')],
    }),
    '/api-nopkce': prm(issuer, `${issuer}/api-nopkce`, {
      authorization_servers: [`${issuer}/fake-as/nopkce`],
    }),
    '/api-noas': prm(issuer, `${issuer}/api-noas`, { authorization_servers: [] }),
    '/api-cimd': prm(issuer, `${issuer}/api-cimd`, {
      authorization_servers: [`${issuer}/fake-as/cimd`],
    }),
    // A resource the authorization server does not know (invalid_target).
    '/api-unknown': prm(issuer, `${issuer}/api-unknown`),
    '/api-two': prm(issuer, `${issuer}/api-two`, {
      authorization_servers: [`${issuer}/fake-as/nopkce`, issuer],
    }),
  };
  if (p.startsWith(wellKnown)) {
    const doc = documents[p.slice(wellKnown.length)];
    return doc ? json(200, doc) : json(404, { error: 'not_found' });
  }
  // An authorization server whose metadata has no code_challenge_methods_supported (path issuer).
  if (p === '/.well-known/oauth-authorization-server/fake-as/nopkce') {
    const as = `${issuer}/fake-as/nopkce`;
    return json(200, {
      issuer: as,
      authorization_endpoint: `${as}/auth`,
      token_endpoint: `${as}/token`,
      response_types_supported: ['code'],
    });
  }
  // An authorization server that accepts client ID metadata documents (metadata only).
  if (p === '/.well-known/oauth-authorization-server/fake-as/cimd') {
    const as = `${issuer}/fake-as/cimd`;
    return json(200, {
      issuer: as,
      authorization_endpoint: `${as}/auth`,
      token_endpoint: `${as}/token`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
    });
  }
  if (p === '/api-html/meta') {
    return send(res, 200, '<!doctype html><html><head><title>Sign in</title></head><body>Portal</body></html>', 'text/html');
  }
  if (p === '/api-loop/meta') return send(res, 302, '', 'text/plain', { location: `${issuer}/api-loop/meta2` });
  if (p === '/api-loop/meta2') return send(res, 302, '', 'text/plain', { location: '/api-loop/meta' });
  if (p === '/api-none/me') return json(401, { error: 'unauthorized' });
  if (p === '/api-wk/me') return unauthorized('realm="api-wk"');
  for (const name of ['api-wrong', 'api-badissuer', 'api-nopkce', 'api-noas', 'api-two', 'api-cimd', 'api-unknown']) {
    if (p.startsWith(`/${name}/`)) return unauthorized(`resource_metadata="${metaUrl(`/${name}`)}"`);
  }
  if (p.startsWith('/api-html/')) return unauthorized(`resource_metadata="${issuer}/api-html/meta"`);
  if (p.startsWith('/api-loop/')) return unauthorized(`resource_metadata="${issuer}/api-loop/meta"`);

  if (p === '/api' || p.startsWith('/api/')) {
    const auth = req.headers.authorization ?? '';
    const base = `resource_metadata="${metaUrl('/api')}"`;
    if (!/^Bearer /i.test(auth)) return unauthorized(`${base}, scope="api:read"`);
    const claims = await verify(auth.slice(7).trim());
    const aud = [claims?.aud ?? []].flat();
    if (!claims || !aud.includes(`${issuer}/api`)) {
      return unauthorized(`${base}, error="invalid_token", error_description="the token is not valid for this API"`);
    }
    const scopes = String(claims.scope ?? '').split(' ');
    // Needs the wider scope.
    if (p === '/api/admin' && !scopes.includes('api:write')) {
      return json(403, { error: 'insufficient_scope' }, challenge(
        `${base}, error="insufficient_scope", scope="api:read api:write", error_description="writing needs api:write"`,
      ));
    }
    // RFC 9470: a recent, stronger sign-in.
    if (p === '/api/stepup') {
      const fresh = claims.auth_time && Date.now() / 1000 - claims.auth_time <= 60;
      if (claims.acr !== 'urn:tokendesk:mfa' || !fresh) {
        return unauthorized(`${base}, error="insufficient_user_authentication", error_description="a recent multi-factor sign-in is required", acr_values="urn:tokendesk:mfa", max_age=60`);
      }
    }
    return json(200, { path: p, sub: claims.sub, scope: claims.scope, aud: claims.aud });
  }
  return json(404, { error: 'not_found' });
}
