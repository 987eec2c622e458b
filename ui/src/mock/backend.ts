// An in-memory stand-in for the Tauri shell, for `npm run dev:mock`, the screenshot harness and
// the tick benchmark (bench/tick). It answers the same commands with the same shapes and emits
// the same "core-event"s, through @tauri-apps/api/mocks. Never part of the production bundle.

import { emit } from '@tauri-apps/api/event';
import { mockIPC } from '@tauri-apps/api/mocks';

import type { Settings, SandboxStatus, WorkspaceStatus, Origin } from '../lib/api';
import type { ApiRequest } from '../lib/bindings/ApiRequest';
import type { ApiResponse } from '../lib/bindings/ApiResponse';
import type { CoreEvent } from '../lib/bindings/CoreEvent';
import type { Error as CoreError } from '../lib/bindings/Error';
import type { Exchange } from '../lib/bindings/Exchange';
import type { ExportFormat } from '../lib/bindings/ExportFormat';
import type { FieldError } from '../lib/bindings/FieldError';
import type { LoginStarted } from '../lib/bindings/LoginStarted';
import type { Profile } from '../lib/bindings/Profile';
import type { ProfileConfig } from '../lib/bindings/ProfileConfig';
import type { ProfileId } from '../lib/bindings/ProfileId';
import type { ProviderMetadata } from '../lib/bindings/ProviderMetadata';
import type { TokenEvent } from '../lib/bindings/TokenEvent';
import type { SecretKind } from '../lib/bindings/SecretKind';
import type { SetupReport } from '../lib/bindings/SetupReport';
import type { TokenInspection } from '../lib/bindings/TokenInspection';
import type { TokenRef } from '../lib/bindings/TokenRef';
import type { PresetInfo } from '../lib/bindings/PresetInfo';
import type { ImportReq } from '../lib/bindings/ImportReq';
import type { PlanSummary } from '../lib/bindings/PlanSummary';
import type { Walk } from '../lib/bindings/Walk';
import type { ClientChoice } from '../lib/bindings/ClientChoice';

/** The plan of a Postman collection with a folder and a request of their own (the real readers
 * are the core's): any path or file ending in .json is read as it; "broken" gives an error. */
function mockImportPlan(req: ImportReq): PlanSummary {
  const source = req.fileName ?? req.path ?? '';
  if (!/\.json$/.test(source)) {
    fail('invalid_input', `${source}: not a Postman, Insomnia, OpenAPI or TokenDesk file (the mock reads only .json files).`);
  }
  const base = 'https://idp.example.com/realms/shop/protocol/openid-connect';
  const config = (name: string, grant: ProfileConfig['grant'], scopes: string[], clientId: string): ProfileConfig => ({
    ...emptyConfig(),
    name,
    environment: req.environment ?? '',
    grant,
    client_id: clientId,
    issuer: 'https://idp.example.com/realms/shop',
    endpoints: { ...emptyConfig().endpoints, authorization: grant === 'authorization_code' ? `${base}/auth` : null, token: `${base}/token` },
    auth_method: grant === 'authorization_code' ? 'none' : 'client_secret_basic',
    scopes,
    redirect_uri: grant === 'authorization_code' ? 'http://127.0.0.1:8765/callback' : null,
  });
  return {
    format: 'postman',
    profiles: [
      { name: 'Shop', origin: 'collection "Shop"', used_by: ['Shop / List products', 'Shop / Cart'], secret_found: 'clientSecret', config: config('Shop', 'client_credentials', ['products:read'], req.clientId ?? 'shop-backend') },
      { name: 'Shop / Admin', origin: 'folder "Shop / Admin"', used_by: ['Shop / Admin / Refund'], secret_found: 'clientSecret', config: config('Shop / Admin', 'client_credentials', ['orders:write', 'refunds'], 'shop-admin') },
      { name: 'Shop / Account / Me', origin: 'request "Shop / Account / Me"', used_by: ['Shop / Account / Me'], secret_found: null, config: config('Shop / Account / Me', 'authorization_code', ['openid', 'profile'], 'shop-web') },
    ],
    warnings: [
      'request "Shop / Legacy login": the password grant is not run by TokenDesk; skipped.',
      'folder "Shop / Admin": {{adminAudience}} is not defined (no environment sets it); the audience is left out.',
    ],
    errors: source.includes('broken') ? ['folder "Shop / Broken": the token URL "{{idp}}/token" is not a URL once its variables are read: pass --environment.'] : [],
  };
}

/** Two presets for the browser preview and component tests (the real ones are the core's). */
const MOCK_PRESETS: PresetInfo[] = [
  {
    id: 'google',
    name: 'Google',
    summary: 'Google APIs and Sign in with Google (OpenID Connect), Desktop app clients',
    docs: 'https://developers.google.com/identity/protocols/oauth2/native-app',
    checked: 'documents',
    params: [],
    sends: [{ what: 'access_type=offline on sign-in', why: 'Google returns a refresh token only with access_type=offline' }],
    device_flow: true,
  },
  {
    id: 'keycloak',
    name: 'Keycloak',
    summary: 'Keycloak 17 and later (Quarkus): a realm as OpenID Connect provider',
    docs: 'https://www.keycloak.org/docs/latest/server_admin/',
    checked: 'documents',
    params: [
      { name: 'base_url', label: 'Keycloak URL', kind: 'base_url', default: null, example: 'https://sso.example.com', required: true, help: "The server's URL as clients reach it" },
      { name: 'realm', label: 'Realm', kind: 'slug', default: 'master', example: null, required: false, help: "The realm's name" },
    ],
    sends: [],
    device_flow: true,
  },
];
import type { TokenSet } from '../lib/bindings/TokenSet';
import type { JsonValue } from '../lib/bindings/serde_json/JsonValue';
import { emptyConfig } from '../lib/profileForm';


/** A stored profile with the core's defaults for every field `fields` leaves out. */
export function mockProfile(fields: Partial<Profile>, now: number): Profile {
  return { ...emptyConfig(), id: '', metadata: null, created_at: now, updated_at: now, ...fields };
}

export type Decoded = { header: JsonValue; claims: JsonValue } | { not_jwt: string };

export interface MockData {
  profiles: Profile[];
  tokens: TokenSet[];
  history: Record<ProfileId, TokenEvent[]>;
  exchanges: Record<ProfileId, Exchange[]>;
  secrets: Record<ProfileId, boolean>;
  /** `${profileId}/${kind}` → what inspect_token decodes. */
  decoded: Record<string, Decoded>;
  settings: Settings;
  sandbox: SandboxStatus;
}

export interface MockOptions {
  /** Simulated command latency. */
  latencyMs?: number;
  /** How long a browser sign-in takes before wait_login resolves. */
  loginMs?: number;
}

// ---- token helpers -----------------------------------------------------------------------

function b64url(s: string): string {
  return btoa(unescape(encodeURIComponent(s))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fakeJwt(header: JsonValue, claims: JsonValue): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.${b64url('signature-' + Math.random().toString(36).slice(2))}`;
}

function hex(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

export function tokenRef(value: string, isJwt: boolean): TokenRef {
  const chars = [...value];
  const preview =
    chars.length < 24 ? `•••• (${chars.length} chars)` : `${chars.slice(0, 6).join('')}…${chars.slice(-4).join('')}`;
  return { preview, fingerprint: hex(16), is_jwt: isJwt };
}

function fail(code: CoreError['code'], message: string, fields: FieldError[] = []): never {
  throw { code, message, ...(fields.length ? { fields } : {}) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the backend ---------------------------------------------------------------------------

export class MockBackend {
  readonly data: MockData;
  readonly opts: Required<MockOptions>;
  #logins = new Map<string, { cancel: () => void; done: (t: TokenSet) => void }>();
  #loginOwner = new Map<string, ProfileId>();
  #seq = 1000;
  /** Two team workspaces, one with a file that does not parse. */
  workspaces: WorkspaceStatus[] = [
    {
      dir: '/home/me/src/platform-workspace',
      files: [
        { file: 'test/staging-m2m.toml', id: 'stg-m2m', name: 'Staging M2M', problems: [] },
        { file: 'test/auth0-dev.toml', id: 'auth0-dev', name: 'Auth0 dev tenant', problems: [] },
        {
          file: 'prod/billing.toml',
          id: null,
          name: null,
          problems: [{ line: 7, column: 14, message: 'invalid string: expected `"`, found a newline' }],
        },
      ],
      removed: [],
      parked: [
        {
          id: 'old-gw',
          name: 'Old gateway',
          workspace: '/home/me/src/platform-workspace',
          file: 'test/old-gateway.toml',
          since: Date.UTC(2026, 10, 20),
        },
      ],
      problem: null,
    },
    {
      dir: '/home/me/src/bank-apis',
      files: [{ file: 'sandbox/accounts.toml', id: 'gw-accounts', name: 'Accounts API (gateway)', problems: [] }],
      removed: [],
      parked: [],
      problem: null,
    },
  ];

  #origins(): Origin[] {
    return this.workspaces.flatMap((w) =>
      w.files.filter((f) => f.id).map((f) => ({ profile_id: f.id!, workspace: w.dir, file: f.file })),
    );
  }

  constructor(data: MockData, opts: MockOptions = {}) {
    this.data = data;
    this.opts = { latencyMs: opts.latencyMs ?? 250, loginMs: opts.loginMs ?? 8000 };
  }

  #emit(e: CoreEvent) {
    void emit('core-event', e);
  }

  #profile(id: unknown): Profile {
    const p = this.data.profiles.find((x) => x.id === id);
    if (!p) fail('not_found', `No profile with id ${String(id)}.`);
    return p;
  }

  #token(id: ProfileId): TokenSet {
    const t = this.data.tokens.find((x) => x.profile_id === id);
    if (!t) fail('not_found', 'This profile holds no token. Get one first.');
    return t;
  }

  #validate(c: ProfileConfig, selfId?: ProfileId) {
    const f: FieldError[] = [];
    if (!c.name.trim()) f.push({ field: 'name', message: 'Give the profile a name.' });
    else if (this.data.profiles.some((p) => p.name === c.name && p.id !== selfId))
      f.push({ field: 'name', message: `A profile named "${c.name}" exists already.` });
    if (!c.client_id.trim()) f.push({ field: 'client_id', message: 'The client id is required.' });
    const url = (field: string, v: string | null) => {
      if (v !== null && !/^https?:\/\/[^\s]+$/.test(v))
        f.push({ field, message: `"${v}" must be an http(s) URL.` });
    };
    url('issuer', c.issuer);
    for (const [k, v] of Object.entries(c.endpoints)) url(`endpoints.${k}`, v);
    url('api_url', c.api_url);
    if (c.issuer === null && c.endpoints.token === null)
      f.push({ field: 'endpoints.token', message: 'Set an issuer URL to discover the endpoints, or the token endpoint by hand.' });
    c.scopes.forEach((s, i) => {
      if (/["\\]/.test(s)) f.push({ field: `scopes[${i}]`, message: `"${s}" is not a scope token.` });
    });
    c.headers.forEach((h, i) => {
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h.name))
        f.push({ field: `headers[${i}]`, message: `"${h.name}" is not a valid HTTP header name.` });
    });
    if (c.refresh.remaining_percent > 90)
      f.push({ field: 'refresh.remaining_percent', message: 'Refresh with at most 90% of the lifetime left.' });
    if (f.length) fail('invalid_input', f.map((x) => x.message).join(' '), f);
  }

  #newToken(p: Profile, now: number, prev?: TokenSet): TokenSet {
    const life = p.grant === 'client_credentials' ? 1800_000 : 600_000;
    const access = fakeJwt(
      { alg: 'RS256', kid: 'mock-1', typ: 'at+jwt' },
      { iss: p.issuer ?? 'https://mock', sub: p.client_id, aud: p.audience ?? 'api', iat: Math.floor(now / 1000), exp: Math.floor((now + life) / 1000), scope: p.scopes.join(' ') },
    );
    const refresh = 'rt_' + hex(40);
    const count = (prev?.refresh_count ?? -1) + 1;
    const t: TokenSet = {
      profile_id: p.id,
      grant: p.grant,
      token_type: 'Bearer',
      scope: p.scopes.join(' ') || null,
      status: prev?.status ?? null,
      obtained_at: now,
      access_expires_at: now + life,
      refresh_expires_at: now + 3600_000,
      id_token_expires_at: prev?.id_token_expires_at ?? null,
      refresh_count: prev?.refresh_count != null ? count : null,
      access: tokenRef(access, true),
      refresh: tokenRef(refresh, false),
      id_token: prev?.id_token ?? null,
      raw: {
        access_token: '<redacted>',
        token_type: 'Bearer',
        expires_in: life / 1000,
        refresh_token: '<redacted>',
        scope: p.scopes.join(' '),
      },
      needs_login: null,
      id_token_validation: prev?.id_token_validation ?? null,
      revoked_at: null,
      retry_at: null,
      last_error: null,
      dpop_jkt: null,
      notes: [],
      issued_token_type: null,
      exchanged_from: null,
      exchange_actor: null,
    };
    this.data.decoded[`${p.id}/access_token`] = { header: { alg: 'RS256', kid: 'mock-1', typ: 'at+jwt' }, claims: JSON.parse(atob(access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as JsonValue };
    this.data.decoded[`${p.id}/refresh_token`] = { not_jwt: 'The value has no dots: an opaque reference token.' };
    return t;
  }

  #putToken(t: TokenSet) {
    const i = this.data.tokens.findIndex((x) => x.profile_id === t.profile_id);
    if (i < 0) this.data.tokens.push(t);
    else this.data.tokens[i] = t;
    this.#emit({ type: 'token_changed', profile_id: t.profile_id });
  }

  /**
   * What the core's background refresher does to a client-credentials token: a new access token
   * with the same lifetime, stored, and announced (bench/tick's churn runs it hundreds of times a
   * second). Unknown ids and profiles without a token are skipped.
   */
  renewInBackground(id: ProfileId, now: number): void {
    // Where each token is, kept between calls: the renewals are the benchmark's load, not this
    // backend's lookups.
    let i = this.#tokenAt.get(id);
    if (i === undefined || this.data.tokens[i]?.profile_id !== id) {
      this.#tokenAt = new Map(this.data.tokens.map((t, j) => [t.profile_id, j]));
      i = this.#tokenAt.get(id);
      if (i === undefined) return;
    }
    const t = this.data.tokens[i];
    const life = (t.access_expires_at ?? t.obtained_at + 60_000) - t.obtained_at;
    this.data.tokens[i] = {
      ...t,
      obtained_at: now,
      access_expires_at: now + life,
      refresh_count: t.refresh_count === null ? null : t.refresh_count + 1,
      access: { ...t.access, fingerprint: hex(16) },
    };
    this.#emit({ type: 'token_changed', profile_id: id });
  }
  #tokenAt = new Map<ProfileId, number>();

  #exchange(p: Profile, operation: string, status: number, body: JsonValue) {
    const x: Exchange = {
      id: Object.values(this.data.exchanges).flat().length + 1,
      profile_id: p.id,
      operation,
      at: Date.now(),
      method: 'POST',
      url: p.endpoints.token ?? `${p.issuer ?? 'https://mock'}/token`,
      status,
      duration_ms: 80 + Math.round(Math.random() * 200),
      request_headers: [
        { name: 'content-type', value: 'application/x-www-form-urlencoded' },
        { name: 'authorization', value: 'Basic <redacted>' },
      ],
      request_body: `grant_type=${operation.split(':')[1] ?? 'refresh_token'}&scope=${encodeURIComponent(p.scopes.join(' '))}`,
      response_headers: [{ name: 'content-type', value: 'application/json' }],
      response_body: JSON.stringify(body),
      error: null,
    };
    (this.data.exchanges[p.id] ??= []).push(x);
    this.#emit({ type: 'exchanges_appended', profile_id: p.id });
  }

  #registrations: Record<string, string[]> = {};

  async handle(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    if (this.opts.latencyMs > 0 && !['list_profiles', 'list_tokens', 'tokens_of'].includes(cmd)) {
      await sleep(this.opts.latencyMs);
    }
    const d = this.data;
    const id = args.id as ProfileId;
    switch (cmd) {
      case 'discover_api':
        return mockWalk(String(args.apiUrl ?? ''), (u) => this.#metadata(u));
      case 'create_profile_from_api': {
        const c = args.config as ProfileConfig;
        const client = args.client as ClientChoice;
        const w = mockWalk(c.api_url ?? '', (u) => this.#metadata(u));
        if (!w.discovered) throw w.error;
        const reg = client.kind === 'register';
        const config: ProfileConfig = {
          ...c,
          issuer: w.discovered.authorization_server,
          resource: w.discovered.resource,
          scopes: c.scopes.length ? c.scopes : w.discovered.scopes,
          client_id:
            client.kind === 'pre_registered' ? client.client_id : client.kind === 'metadata_document' ? client.url : `dcr-${this.#seq}`,
          auth_method: reg && !client.confidential ? 'none' : c.auth_method,
          registration_client_uri: reg ? `https://auth.example/register/dcr-${this.#seq}` : null,
        };
        this.#validate(config);
        const now = Date.now();
        const p: Profile = { ...config, id: `p${this.#seq++}`, metadata: w.discovered.provider, created_at: now, updated_at: now };
        d.profiles.push(p);
        this.#emit({ type: 'profiles_changed' });
        return p;
      }
      case 'registration':
      case 'update_registration': {
        const p = this.#profile(id);
        if (!p.registration_client_uri) fail('unsupported', `Profile "${p.name}" has no dynamic registration to manage.`);
        const key = p.id;
        const uris = (this.#registrations[key] ??= ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback']);
        if (cmd === 'update_registration') {
          const add = (args.addRedirectUris as string[]) ?? [];
          const remove = (args.removeRedirectUris as string[]) ?? [];
          const next = [...uris, ...add.filter((u) => !uris.includes(u))].filter((u) => !remove.includes(u));
          if (next.length === 0) fail('invalid_input', 'A registration needs at least one redirect URI.');
          this.#registrations[key] = next;
        }
        return {
          client_id: p.client_id,
          client_name: `TokenDesk (${p.name})`,
          redirect_uris: this.#registrations[key],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: p.auth_method === 'none' ? 'none' : 'client_secret_basic',
          application_type: 'native',
          registration_client_uri: p.registration_client_uri,
        };
      }
      case 'delete_registration': {
        const p: Profile = { ...this.#profile(id), registration_client_uri: null, updated_at: Date.now() };
        d.profiles = d.profiles.map((x) => (x.id === id ? p : x));
        this.#emit({ type: 'profiles_changed' });
        return p;
      }
      case 'delete_profile_and_registration':
        return this.handle('delete_profile', { id });
      case 'begin_step_up_login': {
        const add = (args.scopeAdd as string[]) ?? [];
        const p = this.#profile(id);
        if (add.length) {
          const scopes = [...p.scopes, ...add.flatMap((s) => s.split(/\s+/)).filter((s) => s && !p.scopes.includes(s))];
          d.profiles = d.profiles.map((x) => (x.id === id ? { ...x, scopes } : x));
          this.#emit({ type: 'profiles_changed' });
        }
        return this.handle('begin_login', { id });
      }
      case 'check_login_demand':
        return true;
      case 'list_profiles':
        return structuredClone(d.profiles);
      case 'list_workspaces':
      case 'sync_workspaces':
        return structuredClone(this.workspaces);
      case 'add_workspace': {
        const dir = String(args.dir ?? '').trim();
        if (!dir.startsWith('/')) fail('not_found', `${dir} is not a folder.`);
        if (!this.workspaces.some((w) => w.dir === dir)) this.workspaces.push({ dir, files: [], removed: [], parked: [], problem: null });
        return structuredClone(this.workspaces);
      }
      case 'remove_workspace': {
        const before = this.workspaces.length;
        this.workspaces = this.workspaces.filter((w) => w.dir !== args.dir);
        if (this.workspaces.length === before) fail('not_found', `${String(args.dir)} is not in the saved workspaces.`);
        return structuredClone(this.workspaces);
      }
      case 'delete_parked_profile': {
        const w = this.workspaces.find((w) => w.parked.some((p) => p.id === args.id));
        if (!w) fail('not_found', `No parked workspace profile ${String(args.id)}.`);
        w.parked = w.parked.filter((p) => p.id !== args.id);
        return structuredClone(this.workspaces);
      }
      case 'choose_workspace_folder':
        return '/home/me/src/chosen-workspace';
      case 'profile_origins':
        return this.#origins();
      case 'create_profile': {
        const c = args.config as ProfileConfig;
        this.#validate(c);
        const now = Date.now();
        const p: Profile = { ...c, id: `p${this.#seq++}`, metadata: null, created_at: now, updated_at: now };
        d.profiles.push(p);
        d.secrets[p.id] = typeof args.clientSecret === 'string' && args.clientSecret !== '';
        this.#emit({ type: 'profiles_changed' });
        return p;
      }
      case 'update_profile': {
        const old = this.#profile(id);
        const c = args.config as ProfileConfig;
        this.#validate(c, id);
        const p: Profile = { ...old, ...c, updated_at: Date.now() };
        d.profiles = d.profiles.map((x) => (x.id === id ? p : x));
        this.#emit({ type: 'profiles_changed' });
        return p;
      }
      case 'stop_sending_resource': {
        const old = this.#profile(id);
        if (!old.resource) fail('conflict', `Profile "${old.name}" sends no resource: there is none to stop sending.`);
        const p: Profile = { ...old, resource: null, resource_refused: old.resource, updated_at: Date.now() };
        d.profiles = d.profiles.map((x) => (x.id === id ? p : x));
        this.#emit({ type: 'profiles_changed' });
        return p;
      }
      case 'duplicate_profile': {
        const old = this.#profile(id);
        const name = String(args.name);
        if (d.profiles.some((p) => p.name === name)) fail('conflict', `A profile named "${name}" exists already.`);
        const now = Date.now();
        const p: Profile = { ...structuredClone(old), id: `p${this.#seq++}`, name, created_at: now, updated_at: now };
        d.profiles.push(p);
        this.#emit({ type: 'profiles_changed' });
        return p;
      }
      case 'delete_profile':
        this.#profile(id);
        d.profiles = d.profiles.filter((p) => p.id !== id);
        d.tokens = d.tokens.filter((t) => t.profile_id !== id);
        this.#emit({ type: 'profiles_changed' });
        this.#emit({ type: 'token_removed', profile_id: id });
        return null;
      case 'set_client_secret':
        this.#profile(id);
        d.secrets[id] = typeof args.secret === 'string';
        return null;
      case 'has_client_secret':
        this.#profile(id);
        return d.secrets[id] ?? false;
      case 'discover': {
        const p = this.#profile(id);
        if (!p.issuer) fail('invalid_input', 'This profile has no issuer to discover from.');
        const meta = this.#metadata(p.issuer);
        const np: Profile = { ...p, metadata: meta };
        d.profiles = d.profiles.map((x) => (x.id === id ? np : x));
        this.#emit({ type: 'profiles_changed' });
        return np;
      }
      case 'check_setup':
      case 'check_config': {
        const p: Pick<Profile, 'name' | 'issuer' | 'auth_method'> =
          cmd === 'check_config' ? (args.config as ProfileConfig) : this.#profile(id);
        const typed = cmd === 'check_config' && typeof args.secret === 'string' && args.secret !== '';
        const at = Date.now();
        const pass = (id: string, layer: SetupReport['checks'][number]['layer'], title: string, seen: string) => ({
          id, layer, title, status: 'pass' as const, seen, fix: null, exchanges: [], duration_ms: 4,
        });
        const secret = typed || (id != null && d.secrets[id]) || p.auth_method === 'none';
        const report: SetupReport = {
          profile_name: p.name,
          checked_at: at,
          duration_ms: 42,
          checks: [
            pass('network:mock:443', 'network', 'Network: mock:443', 'TLS: the certificate is valid 80 more days.'),
            pass('provider:discovery', 'provider', 'Discovery', `${p.issuer ?? 'The endpoints'} answer as the profile says.`),
            pass('provider:clock', 'provider', 'Clock', 'This machine’s clock agrees with the provider’s.'),
            secret
              ? pass('client:authentication', 'client', 'Client authentication', 'The client authenticated (mock).')
              : { ...pass('client:authentication', 'client', 'Client authentication', 'No client secret is stored.'), status: 'fail', fix: 'Set the client secret in the profile.' },
          ],
        };
        return report;
      }
      case 'list_presets':
        return structuredClone(MOCK_PRESETS);
      case 'preset_profile': {
        // The mock knows one preset (the real list and checks are the core's).
        if (args.id !== 'keycloak') fail('invalid_input', `There is no provider preset "${String(args.id)}".`);
        const given = new Map(args.params as [string, string][]);
        const base = (given.get('base_url') ?? '').replace(/\/+$/, '');
        if (!/^https:\/\//.test(base)) {
          const message = 'The Keycloak preset needs the keycloak url: give it with --preset-param base_url=… (The server\'s URL).';
          fail('invalid_input', message, [{ field: 'preset_params.base_url', message }]);
        }
        const realm = given.get('realm') ?? 'master';
        const root = `${base}/realms/${realm}`;
        return {
          ...emptyConfig(),
          name: 'Keycloak',
          issuer: root,
          endpoints: { ...emptyConfig().endpoints, authorization: `${root}/protocol/openid-connect/auth`, token: `${root}/protocol/openid-connect/token` },
          auth_method: 'none',
          scopes: ['openid', 'profile'],
          redirect_uri: 'http://127.0.0.1:8765/callback',
          preset: { id: 'keycloak', params: [{ name: 'base_url', value: base }, { name: 'realm', value: realm }] },
        };
      }
      case 'plan_import':
        return mockImportPlan(args.req as ImportReq);
      case 'import_file': {
        const req = args.req as ImportReq;
        const plan = mockImportPlan(req);
        if (plan.errors.length) fail('invalid_input', `Nothing imported: ${plan.errors.length} problem to fix first.`);
        const names = new Set(d.profiles.map((p) => p.name));
        const clashes = plan.profiles.filter((p) => names.has(p.name)).map((p) => `"${p.name}"`);
        if (clashes.length && !req.rename) fail('conflict', `Nothing imported: profiles of those names already exist (${clashes.join(', ')}). Rename or remove them, or import with --rename to add a " (2)" suffix.`);
        const now = Date.now();
        const created: Profile[] = plan.profiles.map((p, i) => {
          let name = p.name;
          for (let n = 2; names.has(name); n++) name = `${p.name} (${n})`;
          names.add(name);
          const source = req.secretSources?.[i];
          const secrets = source ? { ...p.config.secrets, client_secret: source } : p.config.secrets;
          return { ...p.config, secrets, name, id: `p${this.#seq++}`, metadata: null, created_at: now, updated_at: now };
        });
        for (const [i, p] of created.entries()) {
          d.profiles.push(p);
          d.secrets[p.id] = req.storeFoundSecrets && plan.profiles[i].secret_found !== null && !req.secretSources?.[i];
        }
        this.#emit({ type: 'profiles_changed' });
        return created;
      }
      case 'discover_issuer': {
        const issuer = String(args.issuer);
        if (!/^https?:\/\//.test(issuer))
          fail('invalid_input', `"${issuer}" must be an http(s) URL.`, [{ field: 'issuer', message: `"${issuer}" must be an http(s) URL.` }]);
        if (issuer.includes('unreachable')) fail('network', `Could not connect to ${issuer}: connection refused. Is the provider running, and is the URL right?`);
        return this.#metadata(issuer);
      }
      case 'list_tokens':
        return structuredClone(d.tokens);
      case 'tokens_of': {
        const ids = new Set(args.ids as ProfileId[]);
        return structuredClone(d.tokens.filter((t) => ids.has(t.profile_id)));
      }
      case 'fetch_token': {
        const p = this.#profile(id);
        if (p.grant !== 'client_credentials') fail('unsupported', 'This profile uses the authorization-code grant: sign in instead.');
        if (!d.secrets[id] && p.auth_method !== 'none')
          fail('invalid_client', 'The provider rejected the client credentials (invalid_client). Check the client secret and the auth method (client_secret_basic vs client_secret_post).');
        const prev = d.tokens.find((t) => t.profile_id === id);
        const t = this.#newToken(p, Date.now(), prev);
        this.#exchange(p, 'token:client_credentials', 200, t.raw);
        this.#putToken(t);
        return t;
      }
      case 'begin_login': {
        const p = this.#profile(id);
        const loginId = `login-${this.#seq++}`;
        this.#loginOwner.set(loginId, p.id);
        const started: LoginStarted = {
          login_id: loginId,
          profile_id: p.id,
          auth_url: `${p.endpoints.authorization ?? (p.issuer ?? 'https://mock') + '/authorize'}?response_type=code&client_id=${encodeURIComponent(p.client_id)}&redirect_uri=${encodeURIComponent('http://127.0.0.1:53682/callback')}&scope=${encodeURIComponent(p.scopes.join(' '))}&state=Zm9vYmFy&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`,
          redirect_uri: p.redirect_uri ?? 'http://127.0.0.1:53682/callback',
          listening: p.redirect_uri === null,
          browser_error: null,
        };
        return started;
      }
      case 'wait_login': {
        const loginId = String(args.loginId);
        return new Promise<TokenSet>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.#logins.delete(loginId);
            const p = this.#profile(this.#loginOwner.get(loginId));
            const t = this.#newToken(p, Date.now(), d.tokens.find((x) => x.profile_id === p.id));
            this.#putToken(t);
            resolve(t);
          }, this.opts.loginMs);
          this.#logins.set(loginId, {
            cancel: () => {
              clearTimeout(timer);
              reject({ code: 'cancelled', message: 'The sign-in was cancelled.' });
            },
            done: (t) => {
              clearTimeout(timer);
              resolve(t);
            },
          });
        });
      }
      case 'complete_login': {
        const url = String(args.redirectUrl);
        if (!/[?#&]code=/.test(url))
          fail('invalid_input', 'The URL has no code parameter. Copy the whole address the browser shows after signing in.');
        const loginId = String(args.loginId);
        const login = this.#logins.get(loginId);
        this.#logins.delete(loginId);
        const p = this.#profile(this.#loginOwner.get(loginId));
        const t = this.#newToken(p, Date.now(), d.tokens.find((x) => x.profile_id === p.id));
        this.#putToken(t);
        login?.done(t);
        return t;
      }
      case 'cancel_login': {
        const l = this.#logins.get(String(args.loginId));
        this.#logins.delete(String(args.loginId));
        l?.cancel();
        return null;
      }
      case 'refresh_token': {
        const p = this.#profile(id);
        const prev = this.#token(id);
        const start = Date.now();
        if (prev.needs_login) fail('needs_login', prev.needs_login);
        const t = this.#newToken(p, start, prev);
        (d.history[id] ??= []).unshift({
          id: this.#seq++,
          profile_id: id,
          at: start,
          kind: 'refresh',
          trigger: 'manual',
          method: p.grant === 'client_credentials' && !prev.refresh ? 'client_credentials' : 'refresh_token',
          outcome: 'success',
          duration_ms: 140,
          access_expires_at: t.access_expires_at,
          refresh_expires_at: t.refresh_expires_at,
          refresh_count: t.refresh_count,
          rotated: true,
          error_code: null,
          error_message: null,
          exchange_id: null,
        });
        this.#exchange(p, 'token:refresh_token', 200, t.raw);
        this.#putToken(t);
        this.#emit({ type: 'history_appended', profile_id: id });
        return t;
      }
      case 'forget_token':
        d.tokens = d.tokens.filter((t) => t.profile_id !== id);
        this.#emit({ type: 'token_removed', profile_id: id });
        return null;
      case 'reveal_token': {
        const kind = args.kind as SecretKind;
        const dec = d.decoded[`${id}/${kind}`];
        this.#token(id);
        if (dec && 'header' in dec) return fakeJwt(dec.header, dec.claims);
        return 'opaque_' + hex(48);
      }
      case 'copy_token': {
        this.#token(id);
        void (args.format as ExportFormat);
        return { clear_after_secs: d.settings.clipboard_clear_secs };
      }
      case 'inspect_token': {
        const kind = args.kind as SecretKind;
        const t = this.#token(id);
        const ref = kind === 'access_token' ? t.access : kind === 'refresh_token' ? t.refresh : kind === 'id_token' ? t.id_token : null;
        if (!ref) fail('not_found', `This token set has no ${kind.replace('_', ' ')}.`);
        const dec = d.decoded[`${id}/${kind}`] ?? { not_jwt: 'Not three dot-separated parts: an opaque token.' };
        const r: TokenInspection = {
          kind,
          token: ref,
          jwt: 'header' in dec ? { header: dec.header, claims: dec.claims } : null,
          not_jwt: 'not_jwt' in dec ? dec.not_jwt : null,
          validation: kind === 'id_token' ? t.id_token_validation : null,
        };
        return r;
      }
      case 'revoke_token': {
        const t = this.#token(id);
        if (args.which === 'access_token') {
          const nt: TokenSet = { ...t, revoked_at: Date.now() };
          this.#putToken(nt);
        }
        return null;
      }
      case 'introspect_token': {
        const t = this.#token(id);
        const p = this.#profile(id);
        if (t.revoked_at !== null) return { active: false };
        return {
          active: true,
          client_id: p.client_id,
          scope: t.scope,
          token_type: args.which === 'refresh_token' ? 'refresh_token' : 'access_token',
          exp: t.access_expires_at === null ? null : Math.floor(t.access_expires_at / 1000),
          iat: Math.floor(t.obtained_at / 1000),
          sub: p.client_id,
          iss: p.issuer,
        };
      }
      case 'userinfo': {
        const p = this.#profile(id);
        if (p.grant === 'client_credentials') fail('unsupported', 'A client-credentials token has no user: userinfo needs a token from a sign-in.');
        return { sub: 'user-58213', name: 'Demo User', email: 'demo.user@example.com', email_verified: true };
      }
      case 'send_request':
        return this.#send(this.#profile(id), args.request as ApiRequest);
      case 'support_bundle': {
        const p = this.#profile(id);
        return [`TokenDesk support bundle — ${p.name}`, `client_id: ${p.client_id}`, 'secrets: <redacted>', JSON.stringify({ profile: { ...p, metadata: undefined }, token: d.tokens.find((t) => t.profile_id === id) ?? null, history: d.history[id] ?? [] }, null, 2)].join('\n');
      }
      case 'copy_support_bundle':
        this.#profile(id);
        return null;
      case 'history':
        this.#profile(id);
        return structuredClone(d.history[id] ?? []);
      case 'exchanges':
        this.#profile(id);
        return structuredClone(d.exchanges[id] ?? []);
      case 'get_settings':
        return { ...d.settings };
      case 'set_settings': {
        const s = args.settings as Settings;
        if (s.clipboard_clear_secs > 3600)
          fail('invalid_input', 'Clear the clipboard within an hour.', [{ field: 'clipboard_clear_secs', message: 'At most 3600 seconds.' }]);
        d.settings = { ...s };
        return null;
      }
      case 'sandbox_status':
        return { ...d.sandbox };
      case 'launch_view':
        return { profile: null, last_view: null };
      case 'remember_view':
      case 'close_window':
      case 'window_ready':
        return null;
      case 'add_sandbox_profiles': {
        if (!d.sandbox.running) fail('unsupported', 'The sandbox provider is not running.');
        const now = Date.now();
        const base = mockProfile({ environment: 'sandbox' }, now);
        const made: Profile[] = [
          { ...base, id: `p${this.#seq++}`, name: 'Sandbox — sign in (code)', issuer: d.sandbox.standard_issuer, client_id: 'sandbox-web', auth_method: 'client_secret_basic', grant: 'authorization_code', scopes: ['openid', 'profile', 'offline_access'] },
          { ...base, id: `p${this.#seq++}`, name: 'Sandbox — client credentials', issuer: d.sandbox.standard_issuer, client_id: 'sandbox-m2m', auth_method: 'client_secret_basic', grant: 'client_credentials', scopes: ['api:read'] },
          { ...base, id: `p${this.#seq++}`, name: 'Sandbox gateway — client credentials', issuer: d.sandbox.gateway_issuer, client_id: 'gw-api-key', auth_method: 'client_secret_post', grant: 'client_credentials', scopes: ['accounts'] },
        ];
        for (const p of made) {
          d.profiles.push(p);
          d.secrets[p.id] = true;
        }
        this.#emit({ type: 'profiles_changed' });
        return made;
      }
      default:
        fail('internal', `Command ${cmd} not found`);
    }
  }

  /** "Try it", as the core does it: the URL resolved against the API URL, the token renewed
   * once when the API refuses it (a revoked one here), the exchange logged redacted. */
  #send(p: Profile, r: ApiRequest): ApiResponse {
    const given = r.url.trim();
    const base = p.api_url ?? p.metadata?.userinfo_endpoint ?? null;
    let url: string;
    try {
      url = /^https?:\/\//.test(given) ? new URL(given).href : new URL(given, base ?? undefined).href;
    } catch {
      const why = base
        ? `"${given}" does not resolve against ${base}.`
        : `"${given}" is not an http(s) URL, and profile "${p.name}" has no API URL to resolve it against. Give the whole URL, or set the profile's API URL.`;
      fail('invalid_input', why, [{ field: 'url', message: why }]);
    }
    for (const h of r.headers) {
      if (/^(authorization|dpop)$/i.test(h.name.trim()))
        fail('invalid_input', `The ${h.name} header is the one TokenDesk adds from the profile's token; leave it out.`, [{ field: 'headers', message: 'Leave out Authorization.' }]);
    }
    const method = (r.method.trim() || 'GET').toUpperCase();
    const t = this.#token(p.id);
    const refreshed = t.revoked_at !== null;
    if (refreshed) {
      // The API answers 401 invalid_token; the token is renewed once and the request sent again.
      this.#log(p, method, url, r, 401, '{"error":"invalid_token"}');
      this.#putToken(this.#newToken(p, Date.now(), t));
    }
    const path = new URL(url).pathname;
    const [status, body]: [number, JsonValue] = /account/.test(path)
      ? [200, { accounts: [
          { resourceId: 'acc-001', iban: 'FI21 1234 5600 0007 85', name: 'Current account', currency: 'EUR', balances: [{ type: 'interimAvailable', amount: '1520.30' }] },
          { resourceId: 'acc-002', iban: 'FI79 4006 0010 0001 72', name: 'Savings', currency: 'EUR', balances: [{ type: 'interimAvailable', amount: '12000.00' }] },
        ] }]
      : /userinfo/.test(path)
        ? [200, { sub: 'user-58213', name: 'Demo User', email: 'demo.user@example.com' }]
        : /admin/.test(path)
          ? [403, { error: 'insufficient_scope', error_description: 'the token lacks scope admin' }]
          : /step-up/.test(path)
            ? [401, { error: 'insufficient_user_authentication', error_description: 'a stronger sign-in is needed' }]
            : [404, { error: 'not_found', error_description: `nothing at ${path}` }];
    const text = JSON.stringify(body);
    this.#log(p, method, url, r, status, text);
    return {
      url,
      status,
      headers: [
        { name: 'content-type', value: 'application/json' },
        { name: 'cache-control', value: 'no-store' },
        { name: 'x-request-id', value: crypto.randomUUID() },
      ],
      body: text,
      duration_ms: 60 + Math.round(Math.random() * 120),
      refreshed,
      challenge:
        status === 403
          ? { scheme: 'Bearer', realm: 'api', error: 'insufficient_scope', error_description: 'the token lacks scope admin', scope: 'admin', algs: null, dpop_nonce: null, resource_metadata: null }
          : status === 401
            ? { scheme: 'Bearer', realm: 'api', error: 'insufficient_user_authentication', error_description: 'a stronger sign-in is needed', scope: null, algs: null, dpop_nonce: null, resource_metadata: null, acr_values: 'urn:example:mfa', max_age: 300 }
            : null,
    };
  }

  #log(p: Profile, method: string, url: string, r: ApiRequest, status: number, body: string) {
    const x: Exchange = {
      id: Object.values(this.data.exchanges).flat().length + 1,
      profile_id: p.id,
      operation: 'api',
      at: Date.now(),
      method,
      url,
      status,
      duration_ms: 60 + Math.round(Math.random() * 120),
      request_headers: [{ name: 'authorization', value: 'Bearer <redacted>' }, ...p.headers, ...r.headers],
      request_body: r.body ?? '',
      response_headers: [{ name: 'content-type', value: 'application/json' }],
      response_body: body,
      error: null,
    };
    (this.data.exchanges[p.id] ??= []).push(x);
    this.#emit({ type: 'exchanges_appended', profile_id: p.id });
  }

  #metadata(issuer: string): ProviderMetadata {
    const base = issuer.replace(/\/$/, '');
    const gateway = base.includes('gateway');
    return {
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      revocation_endpoint: `${base}/revoke`,
      introspection_endpoint: gateway ? null : `${base}/introspect`,
      userinfo_endpoint: gateway ? null : `${base}/userinfo`,
      jwks_uri: `${base}/jwks`,
      pushed_authorization_request_endpoint: `${base}/par`,
      device_authorization_endpoint: null,
      require_pushed_authorization_requests: false,
      authorization_response_iss_parameter_supported: !gateway,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access', 'accounts', 'payments'],
      response_types_supported: ['code', 'code id_token'],
      dpop_signing_alg_values_supported: [],
      source_url: `${base}/.well-known/openid-configuration`,
      notes: issuer === base ? [] : [`The issuer was given as "${issuer}", but the provider calls itself "${base}".`],
      fetched_at: Date.now(),
      raw: {},
    };
  }
}

/** Routes every Tauri IPC call of this window to a mock backend. */
export function installMockBackend(data: MockData, opts: MockOptions = {}): MockBackend {
  const backend = new MockBackend(data, opts);
  mockIPC((cmd, args) => backend.handle(cmd, (args ?? {}) as Record<string, unknown>), {
    shouldMockEvents: true,
  });
  return backend;
}

/** A realistic walk: the API's 401 challenge, its protected-resource metadata (RFC 9728), the
 * authorization server's metadata. A URL with "broken" in it stops at an issuer mismatch. */
export function mockWalk(apiUrl: string, metadata: (issuer: string) => ProviderMetadata): Walk {
  let u: URL;
  try {
    u = new URL(apiUrl);
  } catch {
    return { steps: [], discovered: null, authorization_servers: [], error: { code: 'invalid_input', message: `"${apiUrl}" is not a URL.`, fields: [{ field: 'api_url', message: 'Give an absolute https URL.' }], checks: [] } };
  }
  const path = u.pathname === '/' ? '' : u.pathname;
  const prm = `${u.origin}/.well-known/oauth-protected-resource${path}`;
  const issuer = `https://auth.${u.hostname.replace(/^(api|mcp)\./, '')}`;
  const steps: Walk['steps'] = [
    {
      link: 'api',
      method: 'GET',
      url: u.href,
      status: 401,
      found: `WWW-Authenticate: Bearer resource_metadata="${prm}", scope="files:read"`,
      chosen: prm,
    },
    {
      link: 'resource_metadata',
      method: 'GET',
      url: prm,
      status: 200,
      found: `resource "${u.href}", authorization_servers ["${issuer}"], scopes_supported ["files:read", "files:write"], bearer_methods_supported ["header"]`,
      chosen: `resource ${u.href}; authorization server ${issuer}`,
    },
  ];
  const asUrl = `${issuer}/.well-known/oauth-authorization-server`;
  if (apiUrl.includes('broken')) {
    steps.push({ link: 'authorization_server', method: 'GET', url: asUrl, status: 200, found: `issuer "https://login.elsewhere.example"`, chosen: null });
    return {
      steps,
      discovered: null,
      authorization_servers: [issuer],
      error: {
        code: 'issuer_mismatch',
        message: `The authorization server's metadata at ${asUrl} says issuer "https://login.elsewhere.example", not "${issuer}" as the API names it. Check the API's authorization_servers and the server's issuer: they must be the same string.`,
        fields: [],
        checks: [],
      },
    };
  }
  steps.push({
    link: 'authorization_server',
    method: 'GET',
    url: asUrl,
    status: 200,
    found: `issuer "${issuer}", code_challenge_methods_supported ["S256"], registration_endpoint`,
    chosen: issuer,
  });
  return {
    steps,
    discovered: {
      api_url: u.href,
      resource: u.href,
      challenge: null,
      resource_metadata: {
        resource: u.href,
        authorization_servers: [issuer],
        scopes_supported: ['files:read', 'files:write'],
        bearer_methods_supported: ['header'],
        resource_name: 'Files API',
        source_url: prm,
        raw: {},
      },
      authorization_server: issuer,
      provider: metadata(issuer),
      scopes: ['files:read'],
      client_options: ['pre_registered', 'dynamic_registration'],
    },
    error: null,
    authorization_servers: [issuer],
  };
}
