// "Start from a provider" in the new-profile form: the presets with a search, the chosen one's
// parameters and what it sends and why; a bad parameter is named under its input; a good one
// fills the form (name, environment and client id typed so far kept), and the profile is
// created with the preset's endpoints and its reference.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import type { PresetInfo } from '../../lib/bindings/PresetInfo';
import type { ProfileConfig } from '../../lib/bindings/ProfileConfig';
import { emptyConfig } from '../../lib/profileForm';
import { makeProfile } from '../../test/fixtures';
import ProfileForm from '../ProfileForm.svelte';

const invokeMock = vi.mocked(invoke);

const PRESETS: PresetInfo[] = [
  {
    id: 'google',
    name: 'Google',
    summary: 'Google APIs and Sign in with Google',
    docs: 'https://developers.google.com/identity',
    checked: 'documents',
    params: [],
    sends: [{ what: 'access_type=offline on sign-in', why: 'Google returns a refresh token only then' }],
    device_flow: true,
  },
  {
    id: 'keycloak',
    name: 'Keycloak',
    summary: 'Keycloak 17 and later',
    docs: 'https://www.keycloak.org/docs',
    checked: 'documents',
    params: [
      { name: 'base_url', label: 'Keycloak URL', kind: 'base_url', default: null, example: 'https://sso.example.com', required: true, help: "The server's URL" },
      { name: 'realm', label: 'Realm', kind: 'slug', default: 'master', example: null, required: false, help: "The realm's name" },
    ],
    sends: [],
    device_flow: true,
  },
];

const KEYCLOAK: ProfileConfig = {
  ...emptyConfig(),
  name: 'Keycloak',
  issuer: 'https://sso.example.com/realms/dev',
  endpoints: { ...emptyConfig().endpoints, token: 'https://sso.example.com/realms/dev/protocol/openid-connect/token' },
  auth_method: 'none',
  scopes: ['openid', 'profile'],
  redirect_uri: 'http://127.0.0.1:8765/callback',
  preset: { id: 'keycloak', params: [{ name: 'base_url', value: 'https://sso.example.com' }, { name: 'realm', value: 'dev' }] },
};

let created: ProfileConfig | null = null;
let asked: [string, string][][] = [];

beforeEach(() => {
  created = null;
  asked = [];
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
    const a = (args ?? {}) as Record<string, unknown>;
    switch (cmd) {
      case 'list_presets':
        return PRESETS;
      case 'preset_profile': {
        const params = a.params as [string, string][];
        asked.push(params);
        if (!params.some(([k]) => k === 'base_url')) {
          const message = 'The Keycloak preset needs the keycloak url.';
          throw { code: 'invalid_input', message, fields: [{ field: 'preset_params.base_url', message }] };
        }
        return KEYCLOAK;
      }
      case 'create_profile':
        created = a.config as ProfileConfig;
        return makeProfile({ ...created, id: 'new' });
      default:
        throw { code: 'internal', message: `unexpected ${cmd}` };
    }
  });
});

describe('Start from a provider', () => {
  it('lists the presets, searches them, and shows what one sends and why', async () => {
    render(ProfileForm, { props: { profile: null } });
    expect(invokeMock).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('preset-open'));
    await screen.findByTestId('preset-google');
    expect(screen.getByTestId('preset-keycloak')).toBeTruthy();
    await fireEvent.input(screen.getByTestId('preset-search'), { target: { value: 'keycl' } });
    expect(screen.queryByTestId('preset-google')).toBeNull();
    await fireEvent.input(screen.getByTestId('preset-search'), { target: { value: 'goog' } });
    await fireEvent.click(screen.getByTestId('preset-google'));
    const sends = screen.getByTestId('preset-sends');
    expect(sends.textContent).toContain('access_type=offline');
    expect(sends.textContent).toContain('refresh token only then');
  });

  it('names a bad parameter under its input, then fills the form and creates the profile', async () => {
    render(ProfileForm, { props: { profile: null } });
    await fireEvent.input(screen.getByTestId('field-client_id'), { target: { value: 'cli' } });
    await fireEvent.click(screen.getByTestId('preset-open'));
    await fireEvent.click(await screen.findByTestId('preset-keycloak'));
    expect((screen.getByTestId('preset-param-realm') as HTMLInputElement).value).toBe('master');
    await fireEvent.click(screen.getByTestId('preset-apply'));
    const err = await screen.findByTestId('preset-param-error-base_url');
    expect(err.textContent).toContain('needs the keycloak url');

    await fireEvent.input(screen.getByTestId('preset-param-base_url'), { target: { value: 'https://sso.example.com' } });
    await fireEvent.input(screen.getByTestId('preset-param-realm'), { target: { value: 'dev' } });
    await fireEvent.click(screen.getByTestId('preset-apply'));
    await waitFor(() =>
      expect((screen.getByTestId('field-issuer') as HTMLInputElement).value).toBe('https://sso.example.com/realms/dev'),
    );
    expect(asked.at(-1)).toEqual([
      ['base_url', 'https://sso.example.com'],
      ['realm', 'dev'],
    ]);
    expect((screen.getByTestId('field-name') as HTMLInputElement).value).toBe('Keycloak');
    expect((screen.getByTestId('field-client_id') as HTMLInputElement).value).toBe('cli'); // the client id typed first stays

    await fireEvent.submit(screen.getByTestId('profile-form'));
    await waitFor(() => expect(created).not.toBeNull());
    expect(created!.preset?.id).toBe('keycloak');
    expect(created!.endpoints.token).toBe('https://sso.example.com/realms/dev/protocol/openid-connect/token');
    expect(created!.client_id).toBe('cli');
    expect(created!.auth_method).toBe('none');
  });
});
