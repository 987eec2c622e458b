// Which raw token-response values are epoch times, in seconds or milliseconds. Gateways send
// `issued_at` / `refresh_token_issued_at` in milliseconds, often as strings; JWT-style fields use
// seconds. Only plausible dates (2001–2100) count, so counters and `expires_in` never do.

import type { JsonValue } from './bindings/serde_json/JsonValue';

const SECONDS_MIN = 1e9; // 2001-09-09
const SECONDS_MAX = 4.102444800e9; // 2100-01-01
const MS_MIN = SECONDS_MIN * 1000;
const MS_MAX = SECONDS_MAX * 1000;

function asNumber(v: JsonValue | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return null;
}

/** The value as epoch milliseconds if it looks like an epoch time (number or numeric string). */
export function epochMs(v: JsonValue | undefined): number | null {
  const n = asNumber(v);
  if (n === null) return null;
  if (n >= SECONDS_MIN && n < SECONDS_MAX) return Math.round(n * 1000);
  if (n >= MS_MIN && n < MS_MAX) return Math.round(n);
  return null;
}

/** Fields every OAuth 2.0 / OIDC token response may carry (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export const STANDARD_RESPONSE_FIELDS: ReadonlySet<string> = new Set([
  'access_token',
  'token_type',
  'expires_in',
  'refresh_token',
  'scope',
  'id_token',
]);

/** A raw value as text: strings as they are, everything else as JSON. */
export function rawText(v: JsonValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
