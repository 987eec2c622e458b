// "New profile from an API…": the walk as numbered steps, the broken link in red with the
// core's message, nothing stored until Create, and the client choice sent as the core wants it.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import type { Walk } from '../../lib/bindings/Walk';
import type { ProviderMetadata } from '../../lib/bindings/ProviderMetadata';
import { nav } from '../../lib/nav.svelte';
import { makeProfile } from '../../test/fixtures';
import FromApi from '../FromApi.svelte';

const invokeMock = vi.mocked(invoke);

const STEPS: Walk['steps'] = [
  {
    link: 'api',
    method: 'GET',
    url: 'https://mcp.example/mcp',
    status: 401,
    found: 'WWW-Authenticate: Bearer resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp"',
    chosen: 'https://mcp.example/.well-known/oauth-protected-resource/mcp',
  },
  {
    link: 'resource_metadata',
    method: 'GET',
    url: 'https://mcp.example/.well-known/oauth-protected-resource/mcp',
    status: 200,
    found: 'resource https://mcp.example/mcp, authorization_servers [https://auth.example]',
    chosen: 'https://auth.example',
  },
  {
    link: 'authorization_server',
    method: 'GET',
    url: 'https://auth.example/.well-known/oauth-authorization-server',
    status: 200,
    found: 'issuer https://auth.example, registration_endpoint',
    chosen: 'https://auth.example',
  },
];

const GOOD: Walk = {
  steps: STEPS,
  discovered: {
    api_url: 'https://mcp.example/mcp',
    resource: 'https://mcp.example/mcp',
    challenge: null,
    resource_metadata: {
      resource: 'https://mcp.example/mcp',
      authorization_servers: ['https://auth.example'],
      scopes_supported: ['mcp:tools'],
      bearer_methods_supported: ['header'],
      source_url: 'https://mcp.example/.well-known/oauth-protected-resource/mcp',
      raw: {},
    },
    authorization_server: 'https://auth.example',
    provider: {} as ProviderMetadata,
    scopes: ['mcp:tools'],
    client_options: ['pre_registered', 'dynamic_registration'],
  },
  error: null,
  authorization_servers: ['https://auth.example'],
};

const BROKEN: Walk = {
  steps: [
    STEPS[0],
    { ...STEPS[1], status: 200, found: 'resource https://other.example/', chosen: null },
  ],
  discovered: null,
  authorization_servers: [],
  error: {
    code: 'bad_response',
    message:
      'The protected-resource metadata names resource https://other.example/, which does not stand for https://mcp.example/mcp. Check the API URL.',
    fields: [],
    checks: [],
  },
};

let walk: Walk = GOOD;

beforeEach(() => {
  walk = GOOD;
  nav.go({ kind: 'new-from-api' });
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
    const a = (args ?? {}) as Record<string, unknown>;
    switch (cmd) {
      case 'discover_api':
        return walk;
      case 'create_profile_from_api':
        return makeProfile({ ...(a.config as object), id: 'made' });
      default:
        throw { code: 'internal', message: `unexpected ${cmd}`, fields: [] };
    }
  });
});

async function discover(url = 'https://mcp.example/mcp') {
  render(FromApi);
  await fireEvent.input(screen.getByTestId('from-api-url'), { target: { value: url } });
  await fireEvent.click(screen.getByTestId('from-api-discover'));
}

describe('New profile from an API', () => {
  it('shows every step of the walk, numbered, with what it found and chose', async () => {
    await discover();
    await waitFor(() => expect(screen.getAllByTestId('from-api-step')).toHaveLength(3));
    expect(invokeMock).toHaveBeenCalledWith('discover_api', {
      apiUrl: 'https://mcp.example/mcp',
      authorizationServer: null,
      codeGrant: true,
    });
    const steps = screen.getAllByTestId('from-api-step');
    expect(screen.getByTestId('from-api-steps').tagName).toBe('OL');
    expect(steps[0].textContent).toContain('401');
    expect(steps[0].textContent).toContain('WWW-Authenticate');
    expect(steps[1].textContent).toContain('https://auth.example');
    expect(screen.queryByTestId('from-api-broken')).toBeNull();
    expect(screen.getByTestId('from-api-result').textContent).toContain('mcp:tools');
    // Nothing stored by discovering.
    expect(invokeMock.mock.calls.map((c) => c[0])).toEqual(['discover_api']);
    // The server registers clients: that is the default, and a suggested name.
    expect((screen.getByTestId('from-api-kind-register') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId('from-api-name') as HTMLInputElement).value).toBe('example');
  });

  it('suggests a name from the path when the host is an address', async () => {
    walk = { ...GOOD, discovered: { ...GOOD.discovered!, api_url: 'http://127.0.0.1:4000/api/me' } };
    await discover('http://127.0.0.1:4000/api/me');
    await screen.findByTestId('from-api-form');
    expect((screen.getByTestId('from-api-name') as HTMLInputElement).value).toBe('api');
  });

  it('shows the broken link in red with the core message, and no form', async () => {
    walk = BROKEN;
    await discover();
    const broken = await screen.findByTestId('from-api-broken');
    expect(broken.textContent).toContain('does not stand for');
    const steps = screen.getAllByTestId('from-api-step');
    expect(steps).toHaveLength(2);
    expect(steps[1].classList.contains('broken')).toBe(true);
    expect(steps[0].classList.contains('broken')).toBe(false);
    expect(screen.queryByTestId('from-api-form')).toBeNull();
  });

  it('creates with dynamic registration, the initial access token masked', async () => {
    await discover();
    await screen.findByTestId('from-api-form');
    await fireEvent.click(screen.getByTestId('from-api-confidential'));
    const iat = screen.getByTestId('from-api-iat') as HTMLInputElement;
    expect(iat.type).toBe('password');
    await fireEvent.input(iat, { target: { value: 'iat-123' } });
    await fireEvent.click(screen.getByTestId('from-api-create'));
    await waitFor(() => expect(nav.view).toEqual({ kind: 'profile', id: 'made', tab: 'token' }));
    const call = invokeMock.mock.calls.find((c) => c[0] === 'create_profile_from_api');
    const args = call?.[1] as Record<string, unknown>;
    expect(args.client).toEqual({ kind: 'register', confidential: true, initial_access_token: 'iat-123', software_statement: null });
    expect((args.config as { api_url: string; name: string }).api_url).toBe('https://mcp.example/mcp');
    expect((args.config as { name: string }).name).toBe('example');
  });

  it('sends a pasted software statement, and shows the core\'s complaint about it under the field', async () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJvcmcifQ.c2ln';
    let refuse = true;
    invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
      if (cmd === 'discover_api') return walk;
      if (refuse) {
        throw {
          code: 'invalid_input',
          message: 'The software statement is not a signed JWT: 1 dot-separated parts, not 3.',
          fields: [{ field: 'software_statement', message: 'The software statement is not a signed JWT: 1 dot-separated parts, not 3.' }],
        };
      }
      return makeProfile({ ...((args as Record<string, object>).config), id: 'made' });
    });
    await discover();
    await screen.findByTestId('from-api-form');
    const field = screen.getByTestId('from-api-software-statement');
    await fireEvent.input(field, { target: { value: 'not-a-jwt' } });
    await fireEvent.click(screen.getByTestId('from-api-create'));
    expect((await screen.findByTestId('from-api-software-statement-error')).textContent).toContain('not a signed JWT');
    expect(nav.view).toEqual({ kind: 'new-from-api' });
    refuse = false;
    await fireEvent.input(field, { target: { value: `  ${jwt}\n` } });
    await fireEvent.click(screen.getByTestId('from-api-create'));
    await waitFor(() => expect(nav.view).toEqual({ kind: 'profile', id: 'made', tab: 'token' }));
    const calls = invokeMock.mock.calls.filter((c) => c[0] === 'create_profile_from_api');
    expect((calls.at(-1)?.[1] as { client: unknown }).client).toEqual({
      kind: 'register',
      confidential: false,
      initial_access_token: null,
      software_statement: jwt,
    });
  });

  it('creates with a pre-registered client and its secret', async () => {
    await discover();
    await screen.findByTestId('from-api-form');
    await fireEvent.click(screen.getByTestId('from-api-kind-pre_registered'));
    await fireEvent.input(screen.getByTestId('from-api-name'), { target: { value: 'partner' } });
    await fireEvent.input(screen.getByTestId('from-api-client-id'), { target: { value: 'my-app' } });
    const secret = screen.getByTestId('from-api-secret') as HTMLInputElement;
    expect(secret.type).toBe('password');
    await fireEvent.input(secret, { target: { value: 's3cret' } });
    await fireEvent.click(screen.getByTestId('from-api-create'));
    await waitFor(() =>
      expect(invokeMock).toHaveBeenCalledWith('create_profile_from_api', expect.objectContaining({
        client: { kind: 'pre_registered', client_id: 'my-app', client_secret: 's3cret' },
        authorizationServer: null,
      })),
    );
  });

  it('with several authorization servers, walks again with the chosen one and creates with it', async () => {
    const two = ['https://as-one.example', 'https://auth.example'];
    walk = { ...BROKEN, authorization_servers: two };
    await discover();
    const select = (await screen.findByTestId('from-api-as')) as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(two);
    walk = GOOD;
    await fireEvent.change(select, { target: { value: 'https://auth.example' } });
    await waitFor(() =>
      expect(invokeMock).toHaveBeenCalledWith('discover_api', {
        apiUrl: 'https://mcp.example/mcp',
        authorizationServer: 'https://auth.example',
        codeGrant: true,
      }),
    );
    await screen.findByTestId('from-api-form');
    await fireEvent.click(screen.getByTestId('from-api-create'));
    await waitFor(() =>
      expect(invokeMock).toHaveBeenCalledWith(
        'create_profile_from_api',
        expect.objectContaining({ authorizationServer: 'https://auth.example' }),
      ),
    );
  });

  it('a pre-registered client without a secret is a public client', async () => {
    await discover();
    await screen.findByTestId('from-api-form');
    await fireEvent.click(screen.getByTestId('from-api-kind-pre_registered'));
    await fireEvent.input(screen.getByTestId('from-api-client-id'), { target: { value: 'public-app' } });
    await fireEvent.click(screen.getByTestId('from-api-create'));
    await waitFor(() => expect(invokeMock.mock.calls.some((c) => c[0] === 'create_profile_from_api')).toBe(true));
    const call = invokeMock.mock.calls.find((c) => c[0] === 'create_profile_from_api');
    expect((call?.[1] as { config: { auth_method: string } }).config.auth_method).toBe('none');
  });

  it('names a create error and stays', async () => {
    invokeMock.mockImplementation(async (cmd: string) => {
      if (cmd === 'discover_api') return walk;
      throw { code: 'conflict', message: 'A profile named "mcp" exists already.', fields: [] };
    });
    await discover();
    await screen.findByTestId('from-api-form');
    await fireEvent.click(screen.getByTestId('from-api-create'));
    await screen.findByText(/exists already/);
    expect(nav.view).toEqual({ kind: 'new-from-api' });
  });
});
