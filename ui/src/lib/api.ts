// The one typed wrapper over the Tauri commands of the shell. Every call goes through here;
// components never call `invoke` themselves. Argument names are camelCase: Tauri maps them to
// the Rust commands' snake_case parameters.
//
// Every rejection is normalised to an `AppError` ({code, message, fields}) so callers can show
// the message in place and map `fields` to inline form errors.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';

import type { SetupReport } from './bindings/SetupReport';
import type { PresetInfo } from './bindings/PresetInfo';
import type { ImportReq } from './bindings/ImportReq';
import type { PlanSummary } from './bindings/PlanSummary';
import type { Walk } from './bindings/Walk';
import type { ClientChoice } from './bindings/ClientChoice';
import type { LoginDemand } from './bindings/LoginDemand';
import type { ApiRequest } from './bindings/ApiRequest';
import type { CibaLoginOptions } from './bindings/CibaLoginOptions';
import type { CibaLoginStarted } from './bindings/CibaLoginStarted';
import type { ApiResponse } from './bindings/ApiResponse';
import type { Check } from './bindings/Check';
import type { CoreEvent } from './bindings/CoreEvent';
import type { Error as CoreError } from './bindings/Error';
import type { ErrorCode } from './bindings/ErrorCode';
import type { Exchange } from './bindings/Exchange';
import type { ExportFormat } from './bindings/ExportFormat';
import type { FieldError } from './bindings/FieldError';
import type { DeviceLoginStarted } from './bindings/DeviceLoginStarted';
import type { LoginStarted } from './bindings/LoginStarted';
import type { Profile } from './bindings/Profile';
import type { ProfileConfig } from './bindings/ProfileConfig';
import type { ProfileId } from './bindings/ProfileId';
import type { ProviderMetadata } from './bindings/ProviderMetadata';
import type { TokenEvent } from './bindings/TokenEvent';
import type { SecretKind } from './bindings/SecretKind';
import type { Settings } from './bindings/Settings';
import type { TokenHint } from './bindings/TokenHint';
import type { TokenInspection } from './bindings/TokenInspection';
import type { TokenSet } from './bindings/TokenSet';
import type { JsonValue } from './bindings/serde_json/JsonValue';
import type { WorkspaceStatus } from './bindings/WorkspaceStatus';
import type { ParkedProfile } from './bindings/ParkedProfile';
import type { Origin } from './bindings/Origin';

export type { Settings, WorkspaceStatus, Origin, ParkedProfile };

export interface SandboxStatus {
  running: boolean;
  standard_issuer: string | null;
  gateway_issuer: string | null;
  bank_issuer: string | null;
  /** The ready-made profiles are being created in the background (a start with the sandbox). */
  preparing: boolean;
}

export interface CopyResult {
  clear_after_secs: number;
}

/** The shape every rejection takes once it reaches a component. */
export interface AppError {
  code: ErrorCode;
  message: string;
  fields: FieldError[];
  /** With `check_failed`: every check that was run (an ID token's, a userinfo subject's). */
  checks?: Check[];
}

/** The Tauri event the shell emits with a `CoreEvent` payload. */
export const CORE_EVENT = 'core-event';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Turns whatever a command rejected with into an `AppError`: the shell's `{code, message,
 * fields?}`, a bare string (Tauri's own failures, e.g. an unknown command), or a JS error.
 */
export function toAppError(e: unknown): AppError {
  if (isRecord(e) && typeof e.message === 'string') {
    const code = typeof e.code === 'string' ? (e.code as ErrorCode) : 'internal';
    const fields = Array.isArray(e.fields)
      ? (e.fields as unknown[]).filter(
          (f): f is FieldError =>
            isRecord(f) && typeof f.field === 'string' && typeof f.message === 'string',
        )
      : [];
    const checks = Array.isArray(e.checks)
      ? (e.checks as unknown[]).filter(
          (c): c is Check =>
            isRecord(c) && typeof c.name === 'string' && typeof c.ok === 'boolean' && typeof c.detail === 'string',
        )
      : [];
    return {
      code,
      message: e.message || 'Something went wrong.',
      fields,
      ...(checks.length ? { checks } : {}),
    };
  }
  if (typeof e === 'string') {
    return { code: 'internal', message: e || 'Something went wrong.', fields: [] };
  }
  return { code: 'internal', message: 'Something went wrong (no details).', fields: [] };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

// ---- profiles ----------------------------------------------------------------------------

export const listProfiles = () => call<Profile[]>('list_profiles');

export const createProfile = (config: ProfileConfig, clientSecret: string | null) =>
  call<Profile>('create_profile', { config, clientSecret });

export const updateProfile = (id: ProfileId, config: ProfileConfig) =>
  call<Profile>('update_profile', { id, config });

export const duplicateProfile = (id: ProfileId, name: string) =>
  call<Profile>('duplicate_profile', { id, name });

export const deleteProfile = (id: ProfileId) => call<void>('delete_profile', { id });

export const setClientSecret = (id: ProfileId, secret: string | null) =>
  call<void>('set_client_secret', { id, secret });

export const hasClientSecret = (id: ProfileId) => call<boolean>('has_client_secret', { id });

/** The private key of the profile's TLS client certificate (mTLS); `null` removes it. */
export const setTlsKey = (id: ProfileId, key: string | null) => call<void>('set_tls_key', { id, key });

export const hasTlsKey = (id: ProfileId) => call<boolean>('has_tls_key', { id });
export const setSigningKey = (id: ProfileId, key: string | null) => call<void>('set_signing_key', { id, key });
export const hasSigningKey = (id: ProfileId) => call<boolean>('has_signing_key', { id });

export const discover = (id: ProfileId) => call<Profile>('discover', { id });

/** The setup check: every check, nothing stored changed. */
export const checkSetup = (id: ProfileId) => call<SetupReport>('check_setup', { id });

/** The setup check of the profile form before it is saved (a new profile, or the edits of
 * `id`, whose stored secrets are used where none is typed). */
export const checkConfig = (
  config: ProfileConfig,
  id: ProfileId | null,
  secrets: { secret: string; tlsKey: string; signingKey: string },
) =>
  call<SetupReport>('check_config', {
    config,
    id,
    secret: secrets.secret || null,
    tlsKey: secrets.tlsKey || null,
    signingKey: secrets.signingKey || null,
  });

/** The provider presets ("New profile → from a provider"). */
export const listPresets = () => call<PresetInfo[]>('list_presets');

/** A profile config from a preset and its parameters (field errors name bad parameters). */
export const presetProfile = (id: string, params: [string, string][]) =>
  call<ProfileConfig>('preset_profile', { id, params });

/** What importing a file (or a Bruno folder) would create: no secret values, only where. */
export const planImport = (req: ImportReq) => call<PlanSummary>('plan_import', { req });

/** Imports every planned profile or none (plans the file again first). */
export const importFile = (req: ImportReq) => call<Profile[]>('import_file', { req });

export const discoverIssuer = (issuer: string) =>
  call<ProviderMetadata>('discover_issuer', { issuer });

// ---- from an API URL ----------------------------------------------------------------------

/** The walk from an API URL to its authorization server (RFC 9728 → RFC 8414); stores nothing.
 * A broken link is `walk.error`, not a rejection. */
export const discoverApi = (apiUrl: string, authorizationServer: string | null = null, codeGrant = true) =>
  call<Walk>('discover_api', { apiUrl, authorizationServer, codeGrant });

/** A profile from `config` (name, `api_url`…) and the API's chain, with the chosen client. */
export const createProfileFromApi = (
  config: ProfileConfig,
  client: ClientChoice,
  authorizationServer: string | null = null,
) => call<Profile>('create_profile_from_api', { config, authorizationServer, client });

/** After an `invalid_target`: the profile stops sending its resource, keeping it as `resource_refused`. */
export const stopSendingResource = (id: ProfileId) => call<Profile>('stop_sending_resource', { id });

/** The dynamic registration as the server has it (RFC 7592), secrets left out. */
export const registration = (id: ProfileId) => call<Record<string, unknown>>('registration', { id });

export const updateRegistration = (id: ProfileId, addRedirectUris: string[], removeRedirectUris: string[]) =>
  call<Record<string, unknown>>('update_registration', { id, addRedirectUris, removeRedirectUris });

/** Deletes the registration at the server; the profile stays, without it. */
export const deleteRegistration = (id: ProfileId) => call<Profile>('delete_registration', { id });

export const deleteProfileAndRegistration = (id: ProfileId) =>
  call<void>('delete_profile_and_registration', { id });

/** A step-up sign-in (RFC 9470): scopes added to the profile, the demand on this request only. */
export const beginStepUpLogin = (id: ProfileId, scopeAdd: string[], demand: LoginDemand) =>
  call<LoginStarted>('begin_step_up_login', { id, scopeAdd, demand });

/** Whether the new token's acr/auth_time meet the demand; `false` when no token says. */
export const checkLoginDemand = (id: ProfileId, demand: LoginDemand) =>
  call<boolean>('check_login_demand', { id, demand });

// ---- tokens ------------------------------------------------------------------------------

export const listTokens = () => call<TokenSet[]>('list_tokens');

/** The token sets of these profiles, in one call; a profile without a token is absent. */
export const tokensOf = (ids: ProfileId[]) => call<TokenSet[]>('tokens_of', { ids });

/** Client credentials: one request, one token. */
export const fetchToken = (id: ProfileId) => call<TokenSet>('fetch_token', { id });

/** Starts an authorization-code sign-in; the shell opens the system browser itself. */
export const beginLogin = (id: ProfileId) => call<LoginStarted>('begin_login', { id });

/** Resolves when the browser comes back to the loopback listener. */
export const waitLogin = (loginId: string) => call<TokenSet>('wait_login', { loginId });

/** Finishes a sign-in from a redirect URL the user pasted. */
export const completeLogin = (loginId: string, redirectUrl: string) =>
  call<TokenSet>('complete_login', { loginId, redirectUrl });

/** Cancels a sign-in of either kind; a device sign-in stops polling. */
export const cancelLogin = (loginId: string) => call<void>('cancel_login', { loginId });

/** Starts a device sign-in (RFC 8628): a code to enter on another device, and its QR code. */
export const beginDeviceLogin = (id: ProfileId) => call<DeviceLoginStarted>('begin_device_login', { id });

/** Starts a CIBA sign-in: the provider reaches the user's device; the binding message to show. */
export const beginCibaLogin = (id: ProfileId, options: CibaLoginOptions = { login_hint: null, user_code: null }) =>
  call<CibaLoginStarted>('begin_ciba_login', { id, options });

/** Resolves when the user approved on the other device (rejects on denial, expiry, cancel). */
export const waitDeviceLogin = (loginId: string) => call<TokenSet>('wait_device_login', { loginId });

/** Opens the device sign-in's verification address in the system browser. */
export const openDeviceVerification = (loginId: string) => call<void>('open_device_verification', { loginId });

export const refreshToken = (id: ProfileId) => call<TokenSet>('refresh_token', { id });

export const forgetToken = (id: ProfileId) => call<void>('forget_token', { id });

/** The raw token value: only ever called after an explicit "Reveal". */
export const revealToken = (id: ProfileId, kind: SecretKind) =>
  call<string>('reveal_token', { id, kind });

/** Copies in Rust; the token never enters the webview. */
export const copyToken = (id: ProfileId, format: ExportFormat) =>
  call<CopyResult>('copy_token', { id, format });

export const inspectToken = (id: ProfileId, kind: SecretKind) =>
  call<TokenInspection>('inspect_token', { id, kind });

// ---- asking the provider about a token (RFC 7009, RFC 7662, OIDC userinfo) ------------------

/** Revokes the access or refresh token at the provider. */
export const revokeToken = (id: ProfileId, which: TokenHint) =>
  call<void>('revoke_token', { id, which });

/** The provider's introspection answer, as it sent it. */
export const introspectToken = (id: ProfileId, which: TokenHint) =>
  call<JsonValue>('introspect_token', { id, which });

/** The userinfo endpoint's answer for the access token. */
export const userinfo = (id: ProfileId) => call<JsonValue>('userinfo', { id });

/** "Try it": the request sent with the profile's token (a 401 renews it once and retries). */
export const sendRequest = (id: ProfileId, request: ApiRequest) =>
  call<ApiResponse>('send_request', { id, request });

/** A redacted support bundle of the profile (no secrets), as text. */
export const supportBundle = (id: ProfileId) => call<string>('support_bundle', { id });

/** Copies the support bundle to the clipboard (in Rust). */
export const copySupportBundle = (id: ProfileId) => call<void>('copy_support_bundle', { id });

// ---- history, exchanges --------------------------------------------------------------------

/** Newest first. */
export const history = (id: ProfileId) => call<TokenEvent[]>('history', { id });

/** Oldest first, already redacted by the core. */
export const exchanges = (id: ProfileId) => call<Exchange[]>('exchanges', { id });

// ---- settings, sandbox ---------------------------------------------------------------------

export const getSettings = () => call<Settings>('get_settings');

export const setSettings = (settings: Settings) => call<void>('set_settings', { settings });

export const sandboxStatus = () => call<SandboxStatus>('sandbox_status');

export const addSandboxProfiles = () => call<Profile[]>('add_sandbox_profiles');

/** The Tauri event carrying a new `SandboxStatus` (the background setup at start ended). */
export const SANDBOX_EVENT = 'sandbox-changed';

export function onSandboxChanged(handler: (status: SandboxStatus) => void): Promise<UnlistenFn> {
  return listen<SandboxStatus>(SANDBOX_EVENT, (e) => handler(e.payload));
}

// ---- the window on the desktop ---------------------------------------------------------------

export interface LaunchView {
  /** The profile this launch was asked to show (`tokendesk open PROFILE`). */
  profile: ProfileId | null;
  /** What `rememberView` stored last time. */
  last_view: string | null;
}

export const launchView = () => call<LaunchView>('launch_view');

/** Tells the shell the window has painted its first frame: the rest of start-up (tray, sandbox,
 * refresher) waits for it, so it does not compete with the page for the CPU. */
export const windowReady = () => call<void>('window_ready');

/** Remembers the view for the next start. */
export const rememberView = (view: string) => call<void>('remember_view', { view });

/** Closes the window as its close button does: to the tray when the setting says so. */
export const closeWindow = () => call<void>('close_window');

// ---- workspaces ----------------------------------------------------------------------------

/** The open workspaces, their files and each file's problems. */
export const listWorkspaces = () => call<WorkspaceStatus[]>('list_workspaces');

/** Reads every workspace file again. */
export const syncWorkspaces = () => call<WorkspaceStatus[]>('sync_workspaces');

/** Saves a workspace folder, reads and watches it; resolves to every workspace's status. */
export const addWorkspace = (dir: string) => call<WorkspaceStatus[]>('add_workspace', { dir });

export const removeWorkspace = (dir: string) =>
  call<WorkspaceStatus[]>('remove_workspace', { dir });

/** Deletes a parked profile (its file left the workspace) with its tokens, history and keychain entries. */
export const deleteParkedProfile = (id: string) => call<WorkspaceStatus[]>('delete_parked_profile', { id });

/** The native folder picker; the folder chosen, or null when cancelled. */
export const chooseWorkspaceFolder = () => call<string | null>('choose_workspace_folder');

/** Where each workspace profile comes from (local profiles are not listed). */
export const profileOrigins = () => call<Origin[]>('profile_origins');

/** The event a second launch (or the tray) sends to show a profile. */
export const OPEN_PROFILE = 'open-profile';

export function onOpenProfile(handler: (id: ProfileId) => void): Promise<UnlistenFn> {
  return listen<ProfileId>(OPEN_PROFILE, (e) => handler(e.payload));
}

// ---- events --------------------------------------------------------------------------------

/** Listens to the core's change notifications. Resolves to the function that stops listening. */
export function onCoreEvent(handler: (event: CoreEvent) => void): Promise<UnlistenFn> {
  return listen<CoreEvent>(CORE_EVENT, (e) => handler(e.payload));
}

export type { CoreError };
