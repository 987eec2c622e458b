// "Try it": the pure parts — a response body for display, and a past request (from the
// redacted exchange log) as a curl line that fetches the token when it runs, so no token value
// is ever kept or copied.

import type { Exchange } from './bindings/Exchange';
import type { Param } from './bindings/Param';
import type { AuthChallenge } from './bindings/AuthChallenge';
import type { LoginDemand } from './bindings/LoginDemand';

/** Headers TokenDesk adds from the token: never copied, `$(tokendesk token …)` stands in. */
const TOKEN_HEADERS = new Set(['authorization', 'dpop']);
/** Headers the HTTP stack adds by itself. */
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'user-agent', 'accept-encoding', 'connection']);

/** The body pretty-printed when it is JSON; `json` says which it was. */
export function displayBody(body: string): { text: string; json: boolean } {
  try {
    return { text: JSON.stringify(JSON.parse(body), null, 2), json: true };
  } catch {
    return { text: body, json: false };
  }
}

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A past request as a curl line; the token comes from `tokendesk token PROFILE` when it runs.
 * A header the log redacted by its name (`x-api-key`) is taken from the profile's own headers,
 * which the profile shows anyway; one the profile does not hold plainly is left out. */
export function curlLine(e: Exchange, profileName: string, profileHeaders: Param[] = []): string {
  const parts = ['curl'];
  if (e.method !== 'GET') parts.push('-X', e.method);
  parts.push('-H', `"Authorization: Bearer $(tokendesk token ${quote(profileName)})"`);
  for (const h of e.request_headers) {
    const name = h.name.toLowerCase();
    if (TOKEN_HEADERS.has(name) || TRANSPORT_HEADERS.has(name)) continue;
    let value = h.value;
    if (value.includes('<redacted>')) {
      const own = profileHeaders.find((p) => p.name.toLowerCase() === name);
      if (!own || own.value.includes('{{')) continue;
      value = own.value;
    }
    parts.push('-H', quote(`${h.name}: ${value}`));
  }
  if (e.request_body) parts.push('--data', quote(e.request_body));
  parts.push(quote(e.url));
  return parts.join(' ');
}

/** A step-up the API demands (RFC 6750 `insufficient_scope`, RFC 9470
 * `insufficient_user_authentication`): what to add and ask for, and how to say it. */
export interface StepUp {
  scopeAdd: string[];
  demand: LoginDemand;
  /** "scope files:write" / "acr_values … and max_age 300" */
  label: string;
  what: string;
}

export function stepUpOf(c: AuthChallenge | null): StepUp | null {
  if (!c) return null;
  if (c.error === 'insufficient_scope' && c.scope) {
    return { scopeAdd: [c.scope], demand: {}, label: `scope ${c.scope}`, what: `the scope "${c.scope}"` };
  }
  if (c.error === 'insufficient_user_authentication' && (c.acr_values || c.max_age != null)) {
    const demand: LoginDemand = { acr_values: c.acr_values ?? null, max_age: c.max_age ?? null };
    const parts = [
      c.acr_values ? `acr_values ${c.acr_values}` : null,
      c.max_age != null ? `max_age ${c.max_age}` : null,
    ].filter((x): x is string => x !== null);
    const what = [
      c.acr_values ? `an authentication of class ${c.acr_values}` : null,
      c.max_age != null ? `a sign-in at most ${c.max_age} s ago` : null,
    ]
      .filter((x): x is string => x !== null)
      .join(' and ');
    return { scopeAdd: [], demand, label: parts.join(' and '), what };
  }
  return null;
}
