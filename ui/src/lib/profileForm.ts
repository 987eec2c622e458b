// The profile form's model: strings for every input, converted to and from the core's
// `ProfileConfig` (all fields present, optional ones as null, scopes as an array).

import type { DpopAlg } from './bindings/DpopAlg';
import type { AssertionAlg } from './bindings/AssertionAlg';
import type { AuthMethod } from './bindings/AuthMethod';
import type { Ciba } from './bindings/Ciba';
import type { DeliveryMode } from './bindings/DeliveryMode';
import type { HintKind } from './bindings/HintKind';
import type { Endpoints } from './bindings/Endpoints';
import type { ExchangeToken } from './bindings/ExchangeToken';
import type { FieldError } from './bindings/FieldError';
import type { GrantKind } from './bindings/GrantKind';
import type { Param } from './bindings/Param';
import type { PresetRef } from './bindings/PresetRef';
import type { ProfileConfig } from './bindings/ProfileConfig';
import type { SecretSources } from './bindings/SecretSources';
import type { Step } from './bindings/Step';
import { fieldKey } from './fieldErrors';
import { formatScopes, parseScopes } from './scopes';

export type EndpointName = keyof Endpoints;
export const ENDPOINTS: { key: EndpointName; label: string; meta: string }[] = [
  { key: 'authorization', label: 'Authorization endpoint', meta: 'authorization_endpoint' },
  { key: 'token', label: 'Token endpoint', meta: 'token_endpoint' },
  { key: 'revocation', label: 'Revocation endpoint', meta: 'revocation_endpoint' },
  { key: 'introspection', label: 'Introspection endpoint', meta: 'introspection_endpoint' },
  { key: 'userinfo', label: 'Userinfo endpoint', meta: 'userinfo_endpoint' },
  { key: 'jwks', label: 'JWKS URI', meta: 'jwks_uri' },
  { key: 'par', label: 'PAR endpoint', meta: 'pushed_authorization_request_endpoint' },
  { key: 'device_authorization', label: 'Device authorization endpoint', meta: 'device_authorization_endpoint' },
  {
    key: 'backchannel_authentication',
    label: 'Backchannel authentication endpoint (CIBA)',
    meta: 'backchannel_authentication_endpoint',
  },
];

export type ParamList = 'authorize_params' | 'token_params' | 'headers';
export const PARAM_LISTS: ParamList[] = ['authorize_params', 'token_params', 'headers'];

export interface ProfileForm {
  name: string;
  environment: string;
  issuer: string;
  endpoints: Record<EndpointName, string>;
  client_id: string;
  auth_method: AuthMethod;
  /** With private_key_jwt: how the client assertion is signed. */
  assertion: { alg: AssertionAlg; kid: string; audience: string };
  /** A client secret made from the private key (Sign in with Apple): iss, kid, aud, lifetime. */
  generated: { on: boolean; issuer: string; key_id: string; audience: string; lifetime_secs: string };
  signed_request: boolean;
  /** Push the authorization request first (PAR, RFC 9126). */
  par: boolean;
  /** Ask for a signed authorization response (JARM). */
  jarm: boolean;
  /** FAPI 2.0 Security Profile mode: the core refuses a setup that breaks its rules. */
  fapi2: boolean;
  /** The OpenID Connect claims request (a JSON template), and max_age in seconds. */
  claims: string;
  max_age: string;
  /** With the JWT-bearer grant: the assertion's iss, sub, aud and extra claims (JSON). */
  jwt_bearer: { issuer: string; subject: string; audience: string; claims: string };
  /** With the token-exchange grant: whose tokens are exchanged ('' = none), and for what. */
  token_exchange: {
    subject_profile: string;
    subject_token: ExchangeToken;
    actor_profile: string;
    actor_token: ExchangeToken;
    requested_token_type: string;
  };
  /** Requests sent before the sign-in or token request (consent registration). */
  steps: Step[];
  /** Rich Authorization Requests (RFC 9396): a JSON array template; '' = none. */
  authorization_details: string;
  /** With the CIBA grant: whom to authenticate, the binding message, poll or ping. */
  ciba: {
    hint_kind: HintKind;
    login_hint: string;
    binding_message: string;
    acr_values: string;
    requested_expiry: string;
    mode: DeliveryMode;
    notification_endpoint: string;
  };
  /** The ID-token algorithm the client registered ('' = any the provider's JWKS verifies). */
  id_token_alg: string;
  /** DPoP (RFC 9449): the algorithm of the profile's proof key; '' = off. */
  dpop: '' | DpopAlg;
  /** PEM: the client certificate (chain) for mutual TLS, and CA certificates to trust. */
  tls_client_cert: string;
  tls_ca: string;
  grant: GrantKind;
  scopes: string;
  audience: string;
  resource: string;
  redirect_uri: string;
  authorize_params: Param[];
  token_params: Param[];
  headers: Param[];
  api_url: string;
  refresh: { auto: boolean; remaining_percent: string; min_seconds_before: string };
  /** The provider preset the profile was made from; kept as it is through edits. */
  preset: PresetRef | null;
  /** Where the client's dynamic registration is managed (RFC 7592); kept as it is. */
  registration_client_uri: string | null;
  /** Where the secrets come from (keychain, command, variable); kept as it is through edits. */
  secrets: SecretSources;
}

/** The core's defaults (`RefreshPolicy::default()`, `GrantKind::default()`). */
export function emptyConfig(): ProfileConfig {
  return {
    name: '',
    environment: '',
    issuer: null,
    endpoints: {
      authorization: null,
      token: null,
      revocation: null,
      introspection: null,
      userinfo: null,
      jwks: null,
      par: null,
      device_authorization: null,
      backchannel_authentication: null,
    },
    client_id: '',
    auth_method: 'client_secret_basic',
    client_assertion: { alg: 'RS256', kid: null, audience: null },
    generated_secret: null,
    signed_request: false,
    par: false,
    jarm: false,
    fapi2: false,
    claims: null,
    max_age: null,
    jwt_bearer: { issuer: null, subject: null, audience: null, claims: null, lifetime_secs: null },
    token_exchange: {
      subject_profile: null,
      subject_token: 'access',
      actor_profile: null,
      actor_token: 'access',
      requested_token_type: null,
    },
    steps: [],
    authorization_details: null,
    ciba: emptyCiba(),
    id_token_alg: null,
    dpop: null,
    tls_client_cert: null,
    tls_ca: null,
    grant: 'authorization_code',
    scopes: [],
    audience: null,
    resource: null,
    redirect_uri: null,
    authorize_params: [],
    token_params: [],
    headers: [],
    refresh: { auto: true, remaining_percent: 20, min_seconds_before: 30 },
    api_url: null,
    preset: null,
    registration_client_uri: null,
    secrets: emptySecrets(),
  };
}

/** The core's `SecretSources::default()`: every secret in the OS keychain. */
export function emptySecrets(): SecretSources {
  return {
    client_secret: { from: 'keychain' },
    private_key: { from: 'keychain' },
    tls_key: { from: 'keychain' },
  };
}

/** The core's `Ciba::default()`. */
export function emptyCiba(): Ciba {
  return {
    hint_kind: 'login_hint',
    login_hint: null,
    binding_message: null,
    acr_values: null,
    requested_expiry: null,
    mode: 'poll',
    notification_endpoint: null,
  };
}

/** Picks the editable fields of a profile (a `Profile` carries more). */
export function configOf(p: ProfileConfig): ProfileConfig {
  return {
    name: p.name,
    environment: p.environment,
    issuer: p.issuer,
    endpoints: { ...p.endpoints },
    client_id: p.client_id,
    auth_method: p.auth_method,
    client_assertion: { ...p.client_assertion },
    generated_secret: p.generated_secret ? { ...p.generated_secret } : null,
    signed_request: p.signed_request,
    par: p.par,
    jarm: p.jarm,
    fapi2: p.fapi2,
    claims: p.claims,
    max_age: p.max_age,
    jwt_bearer: { ...p.jwt_bearer },
    token_exchange: { ...p.token_exchange },
    steps: p.steps.map(copyStep),
    authorization_details: p.authorization_details ?? null,
    ciba: { ...(p.ciba ?? emptyCiba()) },
    id_token_alg: p.id_token_alg,
    dpop: p.dpop,
    tls_client_cert: p.tls_client_cert,
    tls_ca: p.tls_ca,
    grant: p.grant,
    scopes: [...p.scopes],
    audience: p.audience,
    resource: p.resource,
    redirect_uri: p.redirect_uri,
    authorize_params: p.authorize_params.map((x) => ({ ...x })),
    token_params: p.token_params.map((x) => ({ ...x })),
    headers: p.headers.map((x) => ({ ...x })),
    refresh: { ...p.refresh },
    api_url: p.api_url,
    preset: p.preset,
    registration_client_uri: p.registration_client_uri ?? null,
    secrets: p.secrets ?? emptySecrets(),
  };
}

export function formFromConfig(c: ProfileConfig): ProfileForm {
  const e = c.endpoints;
  return {
    name: c.name,
    environment: c.environment,
    issuer: c.issuer ?? '',
    endpoints: {
      authorization: e.authorization ?? '',
      token: e.token ?? '',
      revocation: e.revocation ?? '',
      introspection: e.introspection ?? '',
      userinfo: e.userinfo ?? '',
      jwks: e.jwks ?? '',
      par: e.par ?? '',
      device_authorization: e.device_authorization ?? '',
      backchannel_authentication: e.backchannel_authentication ?? '',
    },
    client_id: c.client_id,
    auth_method: c.auth_method,
    assertion: {
      alg: c.client_assertion.alg,
      kid: c.client_assertion.kid ?? '',
      audience: c.client_assertion.audience ?? '',
    },
    generated: c.generated_secret
      ? {
          on: true,
          issuer: c.generated_secret.issuer,
          key_id: c.generated_secret.key_id,
          audience: c.generated_secret.audience,
          lifetime_secs: String(c.generated_secret.lifetime_secs),
        }
      : { on: false, issuer: '', key_id: '', audience: 'https://appleid.apple.com', lifetime_secs: '300' },
    signed_request: c.signed_request,
    par: c.par,
    jarm: c.jarm,
    fapi2: c.fapi2,
    claims: c.claims ?? '',
    max_age: c.max_age === null ? '' : String(c.max_age),
    jwt_bearer: {
      issuer: c.jwt_bearer.issuer ?? '',
      subject: c.jwt_bearer.subject ?? '',
      audience: c.jwt_bearer.audience ?? '',
      claims: c.jwt_bearer.claims ?? '',
    },
    token_exchange: {
      subject_profile: c.token_exchange.subject_profile ?? '',
      subject_token: c.token_exchange.subject_token,
      actor_profile: c.token_exchange.actor_profile ?? '',
      actor_token: c.token_exchange.actor_token,
      requested_token_type: c.token_exchange.requested_token_type ?? '',
    },
    steps: c.steps.map(copyStep),
    authorization_details: c.authorization_details ?? '',
    ciba: {
      hint_kind: c.ciba?.hint_kind ?? 'login_hint',
      login_hint: c.ciba?.login_hint ?? '',
      binding_message: c.ciba?.binding_message ?? '',
      acr_values: c.ciba?.acr_values ?? '',
      requested_expiry: c.ciba?.requested_expiry == null ? '' : String(c.ciba.requested_expiry),
      mode: c.ciba?.mode ?? 'poll',
      notification_endpoint: c.ciba?.notification_endpoint ?? '',
    },
    id_token_alg: c.id_token_alg ?? '',
    dpop: c.dpop ?? '',
    tls_client_cert: c.tls_client_cert ?? '',
    tls_ca: c.tls_ca ?? '',
    grant: c.grant,
    scopes: formatScopes(c.scopes),
    audience: c.audience ?? '',
    resource: c.resource ?? '',
    redirect_uri: c.redirect_uri ?? '',
    authorize_params: c.authorize_params.map((p) => ({ ...p })),
    token_params: c.token_params.map((p) => ({ ...p })),
    headers: c.headers.map((p) => ({ ...p })),
    api_url: c.api_url ?? '',
    preset: c.preset,
    registration_client_uri: c.registration_client_uri ?? null,
    secrets: c.secrets ?? emptySecrets(),
    refresh: {
      auto: c.refresh.auto,
      remaining_percent: String(c.refresh.remaining_percent),
      min_seconds_before: String(c.refresh.min_seconds_before),
    },
  };
}

const opt = (s: string): string | null => (s.trim() === '' ? null : s.trim());

/** Which form row each sent list item came from (blank rows are not sent). */
export type RowIndex = Record<ParamList, number[]>;

export interface Converted {
  config: ProfileConfig;
  rows: RowIndex;
  /** Problems the form can tell before asking the core (numbers only). */
  errors: FieldError[];
}

function wholeNumber(s: string, field: string, max: number, errors: FieldError[]): number {
  const t = s.trim();
  if (!/^\d+$/.test(t) || Number(t) > max) {
    errors.push({ field, message: `Enter a whole number from 0 to ${max}.` });
    return 0;
  }
  return Number(t);
}

export function configFromForm(f: ProfileForm): Converted {
  const errors: FieldError[] = [];
  const rows: RowIndex = { authorize_params: [], token_params: [], headers: [] };
  const lists = {} as Record<ParamList, Param[]>;
  for (const list of PARAM_LISTS) {
    lists[list] = [];
    f[list].forEach((p, i) => {
      if (p.name.trim() === '' && p.value === '') return;
      rows[list].push(i);
      lists[list].push({ name: p.name.trim(), value: p.value });
    });
  }
  const endpoints = {} as Endpoints;
  for (const { key } of ENDPOINTS) endpoints[key] = opt(f.endpoints[key]);
  const config: ProfileConfig = {
    name: f.name.trim(),
    environment: f.environment.trim(),
    issuer: opt(f.issuer),
    endpoints,
    client_id: f.client_id.trim(),
    auth_method: f.auth_method,
    client_assertion: {
      alg: f.assertion.alg,
      kid: opt(f.assertion.kid),
      audience: opt(f.assertion.audience),
    },
    generated_secret: f.generated.on
      ? {
          issuer: f.generated.issuer.trim(),
          key_id: f.generated.key_id.trim(),
          audience: f.generated.audience.trim(),
          lifetime_secs: wholeNumber(f.generated.lifetime_secs, 'generated_secret.lifetime_secs', 15777000, errors),
        }
      : null,
    signed_request: f.signed_request,
    par: f.par,
    jarm: f.jarm,
    fapi2: f.fapi2,
    claims: opt(f.claims),
    max_age: f.max_age.trim() === '' ? null : wholeNumber(f.max_age, 'max_age', 4294967295, errors),
    jwt_bearer: {
      issuer: opt(f.jwt_bearer.issuer),
      subject: opt(f.jwt_bearer.subject),
      audience: opt(f.jwt_bearer.audience),
      claims: opt(f.jwt_bearer.claims),
      lifetime_secs: null,
    },
    token_exchange: {
      subject_profile: opt(f.token_exchange.subject_profile),
      subject_token: f.token_exchange.subject_token,
      actor_profile: opt(f.token_exchange.actor_profile),
      actor_token: f.token_exchange.actor_token,
      requested_token_type: opt(f.token_exchange.requested_token_type),
    },
    steps: f.steps.map(cleanStep),
    authorization_details: opt(f.authorization_details),
    ciba: {
      hint_kind: f.ciba.hint_kind,
      login_hint: opt(f.ciba.login_hint),
      binding_message: opt(f.ciba.binding_message),
      acr_values: opt(f.ciba.acr_values),
      requested_expiry:
        f.ciba.requested_expiry.trim() === ''
          ? null
          : wholeNumber(f.ciba.requested_expiry, 'ciba.requested_expiry', 4294967295, errors),
      mode: f.ciba.mode,
      notification_endpoint: opt(f.ciba.notification_endpoint),
    },
    id_token_alg: opt(f.id_token_alg),
    dpop: f.dpop === '' ? null : f.dpop,
    tls_client_cert: opt(f.tls_client_cert),
    tls_ca: opt(f.tls_ca),
    grant: f.grant,
    scopes: parseScopes(f.scopes),
    audience: opt(f.audience),
    resource: opt(f.resource),
    redirect_uri: opt(f.redirect_uri),
    authorize_params: lists.authorize_params,
    token_params: lists.token_params,
    headers: lists.headers,
    refresh: {
      auto: f.refresh.auto,
      remaining_percent: wholeNumber(f.refresh.remaining_percent, 'refresh.remaining_percent', 100, errors),
      min_seconds_before: wholeNumber(
        f.refresh.min_seconds_before,
        'refresh.min_seconds_before',
        4294967295,
        errors,
      ),
    },
    api_url: opt(f.api_url),
    preset: f.preset,
    registration_client_uri: f.registration_client_uri,
    secrets: f.secrets,
  };
  return { config, rows, errors };
}

/**
 * Renames the core's `headers[k]` (index into the sent list) to the form row it came from,
 * so the error shows under the right row even when blank rows were left out.
 */
export function remapRowErrors(fields: readonly FieldError[], rows: RowIndex): FieldError[] {
  return fields.map((f) => {
    const m = /^(authorize_params|token_params|headers)\[(\d+)\](.*)$/.exec(f.field);
    if (!m) return f;
    const row = rows[m[1] as ParamList][Number(m[2])];
    return row === undefined ? f : { ...f, field: `${m[1]}[${row}]${m[3]}` };
  });
}

/** The control keys the form shows errors for, given its current rows. */
export function knownFieldKeys(f: ProfileForm): (key: string) => boolean {
  const scalar = new Set([
    'name',
    'environment',
    'issuer',
    'client_id',
    'client_secret',
    'private_key',
    'auth_method',
    'client_assertion.alg',
    'client_assertion.kid',
    'client_assertion.audience',
    'generated_secret',
    'generated_secret.issuer',
    'generated_secret.key_id',
    'generated_secret.audience',
    'generated_secret.lifetime_secs',
    'signed_request',
    'par',
    'jarm',
    'fapi2',
    'signing_key',
    'claims',
    'max_age',
    'jwt_bearer.issuer',
    'jwt_bearer.subject',
    'jwt_bearer.audience',
    'jwt_bearer.claims',
    'token_exchange.subject_profile',
    'token_exchange.subject_token',
    'token_exchange.actor_profile',
    'token_exchange.actor_token',
    'token_exchange.requested_token_type',
    'id_token_alg',
    'dpop',
    'tls_client_cert',
    'tls_ca',
    'tls_key',
    'grant',
    'scopes',
    'audience',
    'resource',
    'redirect_uri',
    'api_url',
    'refresh.auto',
    'refresh.remaining_percent',
    'refresh.min_seconds_before',
    ...ENDPOINTS.map((e) => `endpoints.${e.key}`),
  ]);
  return (key) => {
    if (scalar.has(key)) return true;
    // Step fields are shown in place by the steps editor.
    if (/^steps\[(\d+)\]\.(url|method|body)$/.test(key)) return Number(/\d+/.exec(key)?.[0]) < f.steps.length;
    const m = /^(authorize_params|token_params|headers)\[(\d+)\]$/.exec(fieldKey(key));
    return m !== null && Number(m[2]) < f[m[1] as ParamList].length;
  };
}

/** A deep copy of a step (the form edits its own). */
export function copyStep(s: Step): Step {
  return {
    ...s,
    headers: s.headers.map((h) => ({ ...h })),
    capture: s.capture.map((c) => ({ ...c })),
  };
}

/** A new, empty step: POST with a JSON body, capturing nothing yet. */
export function emptyStep(): Step {
  return {
    name: '',
    method: 'POST',
    url: '',
    headers: [],
    body: null,
    token_from: null,
    jws_header: null,
    capture: [{ name: '', pointer: '' }],
  };
}

/** A step as saved: blank rows left out, empty texts as null. */
export function cleanStep(s: Step): Step {
  const blank = (v: string | null) => v === null || v.trim() === '';
  return {
    name: s.name.trim(),
    method: s.method.trim() || 'POST',
    url: s.url.trim(),
    headers: s.headers.filter((h) => !blank(h.name)).map((h) => ({ name: h.name.trim(), value: h.value })),
    body: blank(s.body) ? null : s.body,
    token_from: blank(s.token_from) ? null : (s.token_from ?? '').trim(),
    jws_header: blank(s.jws_header) ? null : (s.jws_header ?? '').trim(),
    capture: s.capture
      .filter((c) => !blank(c.name) || !blank(c.pointer))
      .map((c) => ({ name: c.name.trim(), pointer: c.pointer.trim() })),
  };
}

/** A command's argv as one line, each word quoted as a shell would need (the core splits it
 * back the same way, with shlex). */
export function joinArgv(argv: string[]): string {
  return argv.map((w) => (w !== '' && /^[A-Za-z0-9_@%+=:,./~-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** A command line split into words as a shell would (quotes and backslashes; no variables,
 * pipes or globs); `null` for an unclosed quote. */
export function splitArgv(text: string): string[] | null {
  const out: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) word += text[++i];
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (word !== null) out.push(word);
      word = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
    } else if (ch === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote) return null;
  if (word !== null) out.push(word);
  return out;
}
