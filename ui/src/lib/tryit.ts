// "Try it": the pure parts — a response body for display, and a past request (from the
// redacted exchange log) as a curl line that fetches the token when it runs, so no token value
// is ever kept or copied.

import type { Exchange } from './bindings/Exchange';
import type { Param } from './bindings/Param';

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
