// A rejected create shows the core's field errors inline, under the control each belongs to,
// and the request carried the whole ProfileConfig.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import type { ProfileConfig } from '../../lib/bindings/ProfileConfig';
import { desk } from '../../lib/desk.svelte';
import { emptyConfig } from '../../lib/profileForm';
import { makeProfile } from '../../test/fixtures';
import ProfileForm from '../ProfileForm.svelte';

const invokeMock = vi.mocked(invoke);

const REJECTION = {
  code: 'invalid_input',
  message: 'Give the profile a name. Set an issuer URL to discover the endpoints, or the token endpoint by hand.',
  fields: [
    { field: 'name', message: 'Give the profile a name.' },
    { field: 'endpoints.token', message: 'Set an issuer URL to discover the endpoints, or the token endpoint by hand.' },
    { field: 'scopes[1]', message: '"bad\\"scope" is not a scope token: one word per scope, no spaces or quotes.' },
    { field: 'headers[0]', message: '"x api key" is not a valid HTTP header name.' },
  ],
};

beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string) => {
    if (cmd === 'create_profile') throw REJECTION;
    throw { code: 'internal', message: `unexpected ${cmd}` };
  });
});

async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

async function choose(testid: string, value: string) {
  const select = screen.getByTestId(testid) as HTMLSelectElement;
  for (const o of select.options) o.selected = o.value === value;
  await fireEvent.change(select);
}

describe('profile form', () => {
  it('shows the core’s field errors inline after a rejected create', async () => {
    render(ProfileForm);
    await type('field-client_id', 'my-client');
    await type('field-scopes', 'openid bad"scope');
    await type('field-client_secret', 's3cret');
    await choose('field-grant', 'client_credentials');
    await fireEvent.click(screen.getByTestId('add-headers'));
    await type('field-headers[0].name', 'x api key');
    await type('field-headers[0].value', 'k1');
    await fireEvent.submit(screen.getByTestId('profile-form'));

    // Inline, under the right controls.
    expect((await screen.findByTestId('field-error-name')).textContent).toBe('Give the profile a name.');
    expect(screen.getByTestId('field-name').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('field-name').getAttribute('aria-describedby')).toBe('err-name');
    expect(screen.getByTestId('field-error-endpoints.token').textContent).toContain('token endpoint by hand');
    expect(screen.getByTestId('field-endpoints.token').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('field-error-scopes').textContent).toContain('is not a scope token');
    expect(screen.getByTestId('field-error-headers[0]').textContent).toContain('not a valid HTTP header name');
    expect(screen.getByTestId('field-client_id').getAttribute('aria-invalid')).toBeNull();
    // And the message in place, above the form.
    expect(screen.getByTestId('error-message').textContent).toContain('Give the profile a name.');
    // The button is usable again (no frozen spinner).
    expect((screen.getByTestId('profile-save') as HTMLButtonElement).disabled).toBe(false);

    // What was sent: every ProfileConfig field, scopes as an array, blank optionals as null.
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    expect(call).toBeDefined();
    const args = call![1] as { config: ProfileConfig; clientSecret: string | null };
    expect(Object.keys(args.config).sort()).toEqual(Object.keys(emptyConfig()).sort());
    expect(args.config.scopes).toEqual(['openid', 'bad"scope']);
    expect(args.config.grant).toBe('client_credentials');
    expect(args.config.issuer).toBeNull();
    expect(args.config.redirect_uri).toBeNull();
    expect(args.config.headers).toEqual([{ name: 'x api key', value: 'k1' }]);
    expect(args.clientSecret).toBe('s3cret');
  });

  it('clears the errors once a save succeeds', async () => {
    let fail = true;
    invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
      if (cmd !== 'create_profile') throw { code: 'internal', message: cmd };
      if (fail) throw { code: 'invalid_input', message: 'Name!', fields: [{ field: 'name', message: 'Give the profile a name.' }] };
      const { config } = args as { config: ProfileConfig };
      return { ...config, id: 'new', metadata: null, created_at: 0, updated_at: 0 };
    });
    render(ProfileForm);
    await fireEvent.submit(screen.getByTestId('profile-form'));
    await screen.findByTestId('field-error-name');
    fail = false;
    await type('field-name', 'Named');
    await type('field-client_id', 'c');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    await vi.waitFor(() => expect(screen.queryByTestId('field-error-name')).toBeNull());
    expect(screen.queryByTestId('error-message')).toBeNull();
  });

  it('private_key_jwt: a masked key field, the signing settings, and the key sent with create', async () => {
    render(ProfileForm);
    expect(screen.queryByTestId('field-client_assertion.alg')).toBeNull();
    await choose('field-auth_method', 'private_key_jwt');
    const key = screen.getByTestId('field-client_secret') as HTMLTextAreaElement;
    expect(key.tagName).toBe('TEXTAREA');
    expect(key.classList.contains('masked')).toBe(true);
    expect(screen.getByText('Private key')).toBeTruthy();
    await choose('field-client_assertion.alg', 'PS256');
    await type('field-client_assertion.kid', ' k1 ');
    await fireEvent.click(screen.getByTestId('field-signed_request'));
    await type('field-client_secret', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    const args = call![1] as { config: ProfileConfig; clientSecret: string | null };
    expect(args.config.auth_method).toBe('private_key_jwt');
    expect(args.config.client_assertion).toEqual({ alg: 'PS256', kid: 'k1', audience: null });
    expect(args.config.signed_request).toBe(true);
    expect(args.clientSecret).toContain('BEGIN PRIVATE KEY');
  });

  it('a client secret made from a private key (Sign in with Apple): its settings, and the key sent with create', async () => {
    render(ProfileForm);
    await choose('field-auth_method', 'client_secret_post');
    expect(screen.queryByTestId('field-generated_secret.issuer')).toBeNull();
    expect((screen.getByTestId('field-client_secret') as HTMLElement).tagName).toBe('INPUT');
    await fireEvent.click(screen.getByTestId('field-generated_secret'));
    const key = screen.getByTestId('field-client_secret') as HTMLTextAreaElement;
    expect(key.tagName).toBe('TEXTAREA');
    expect(screen.getByTestId('secret-generated').textContent).toContain('Makes the client secret from this key');
    expect(screen.queryByTestId('field-client_assertion.kid')).toBeNull();
    await choose('field-client_assertion.alg', 'ES256');
    await type('field-generated_secret.issuer', ' A1B2C3D4E5 ');
    await type('field-generated_secret.key_id', 'ABC123DEFG');
    await type('field-generated_secret.lifetime_secs', '600');
    await type('field-client_secret', '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    const args = call![1] as { config: ProfileConfig; clientSecret: string | null };
    expect(args.config.generated_secret).toEqual({
      issuer: 'A1B2C3D4E5',
      key_id: 'ABC123DEFG',
      audience: 'https://appleid.apple.com',
      lifetime_secs: 600,
    });
    expect(args.config.client_assertion.alg).toBe('ES256');
    expect(args.clientSecret).toContain('BEGIN PRIVATE KEY');
    // Turned off, nothing of it is sent.
    await fireEvent.click(screen.getByTestId('field-generated_secret'));
    invokeMock.mockClear();
    await fireEvent.submit(screen.getByTestId('profile-form'));
    const again = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    expect((again![1] as { config: ProfileConfig }).config.generated_secret).toBeNull();
  });

  it('shows the core’s refusal of a key under the key field', async () => {
    invokeMock.mockImplementation(async (cmd: string) => {
      if (cmd === 'create_profile') {
        throw {
          code: 'invalid_input',
          message: 'ES256 needs a P-256 EC private key in PEM.',
          fields: [{ field: 'private_key', message: 'ES256 needs a P-256 EC private key in PEM.' }],
        };
      }
      throw { code: 'internal', message: cmd };
    });
    render(ProfileForm);
    await type('field-name', 'psd2');
    await type('field-client_id', 'tpp');
    await choose('field-auth_method', 'private_key_jwt');
    await type('field-client_secret', 'not a key');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    expect((await screen.findByTestId('field-error-client_secret')).textContent).toContain('P-256');
  });

  it('mutual TLS: the certificate goes with the profile, its key to the keychain after create', async () => {
    const calls: string[] = [];
    invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
      calls.push(cmd);
      if (cmd === 'create_profile') {
        const { config } = args as { config: ProfileConfig };
        return { ...config, id: 'new', metadata: null, created_at: 0, updated_at: 0 };
      }
      if (cmd === 'set_tls_key') return null;
      throw { code: 'internal', message: cmd };
    });
    render(ProfileForm);
    await type('field-name', 'mtls');
    await type('field-client_id', 'cc-mtls');
    await choose('field-auth_method', 'tls_client_auth');
    expect((screen.getByTestId('field-client_secret') as HTMLInputElement).disabled).toBe(true);
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    await type('field-tls_client_cert', cert);
    const key = screen.getByTestId('field-tls_key') as HTMLTextAreaElement;
    expect(key.classList.contains('masked')).toBe(true);
    await type('field-tls_key', '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    await vi.waitFor(() => expect(calls).toEqual(['create_profile', 'set_tls_key']));
    const create = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile')![1] as { config: ProfileConfig };
    expect(create.config.tls_client_cert).toBe(cert);
    expect(create.config.auth_method).toBe('tls_client_auth');
    expect(JSON.stringify(create)).not.toContain('PRIVATE KEY');
    expect(invokeMock).toHaveBeenCalledWith('set_tls_key', { id: 'new', key: expect.stringContaining('PRIVATE KEY') });
  });

  it('PSD2: client_secret_post with a signed request, a signing key, the claims request and a consent step', async () => {
    const calls: string[] = [];
    invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
      calls.push(cmd);
      if (cmd === 'create_profile') {
        const { config } = args as { config: ProfileConfig };
        return { ...config, id: 'new', metadata: null, created_at: 0, updated_at: 0 };
      }
      if (cmd === 'set_signing_key') return null;
      throw { code: 'internal', message: cmd };
    });
    render(ProfileForm);
    await type('field-name', 'psd2 accounts');
    await type('field-client_id', 'tpp');
    await choose('field-auth_method', 'client_secret_post');
    expect(screen.queryByTestId('field-signing_key')).toBeNull();
    await fireEvent.click(screen.getByTestId('field-signed_request'));
    const key = screen.getByTestId('field-signing_key') as HTMLTextAreaElement;
    expect(key.classList.contains('masked')).toBe(true);
    await choose('field-client_assertion.alg', 'PS256');
    await type('field-signing_key', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----');
    await type('field-claims', '{"id_token": {"authorizationId": {"value": "{{authorizationId}}", "essential": true}}}');
    await type('field-max_age', '3600');
    await fireEvent.click(screen.getByTestId('step-add'));
    await type('step-0-url', 'https://bank.example/accounts-psd2/v1/authorizations');
    await type('step-0-capture-0-name', 'authorizationId');
    await type('step-0-capture-0-pointer', '/authorizationId');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    await vi.waitFor(() => expect(calls).toEqual(['create_profile', 'set_signing_key']));
    const create = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile')![1] as { config: ProfileConfig };
    expect(create.config.signed_request).toBe(true);
    expect(create.config.max_age).toBe(3600);
    expect(JSON.parse(create.config.claims!).id_token.authorizationId.value).toBe('{{authorizationId}}');
    expect(create.config.steps).toEqual([
      {
        name: '',
        method: 'POST',
        url: 'https://bank.example/accounts-psd2/v1/authorizations',
        headers: [],
        body: null,
        token_from: null,
        jws_header: null,
        capture: [{ name: 'authorizationId', pointer: '/authorizationId' }],
      },
    ]);
    expect(JSON.stringify(create)).not.toContain('PRIVATE KEY');
    expect(invokeMock).toHaveBeenCalledWith('set_signing_key', { id: 'new', key: expect.stringContaining('PRIVATE KEY') });
  });

  it('the grant list comes from the core’s registry; JWT bearer shows its assertion', async () => {
    render(ProfileForm);
    const options = [...(screen.getByTestId('field-grant') as HTMLSelectElement).options].map((o) => o.value);
    expect(options).toEqual(['authorization_code', 'client_credentials', 'jwt_bearer', 'token_exchange', 'device_code', 'ciba']);
    expect(screen.queryByTestId('section-jwt-bearer')).toBeNull();
    await choose('field-grant', 'jwt_bearer');
    expect(screen.getByTestId('section-jwt-bearer')).toBeTruthy();
    expect(screen.getByTestId('field-signing_key')).toBeTruthy();
    expect(screen.queryByTestId('section-sign-in-request')).toBeNull();
  });

  it('token exchange: subject and actor chosen among the other profiles, sent with the profile; the core’s refusal shows under the subject', async () => {
    desk.profiles = [
      makeProfile({ id: 'a', name: 'ci-robot' }),
      makeProfile({ id: 'b', name: 'web sign-in' }),
    ];
    invokeMock.mockImplementation(async (cmd: string) => {
      if (cmd === 'create_profile') {
        throw {
          code: 'invalid_input',
          message: 'token_exchange.subject_profile: That makes a cycle ("downstream" → "web sign-in" → "downstream").',
          fields: [{ field: 'token_exchange.subject_profile', message: 'That makes a cycle ("downstream" → "web sign-in" → "downstream").' }],
        };
      }
      throw { code: 'internal', message: cmd };
    });
    render(ProfileForm);
    expect(screen.queryByTestId('section-token-exchange')).toBeNull();
    await type('field-name', 'downstream');
    await type('field-client_id', 'exchanger');
    await type('field-client_secret', 's3cret');
    await choose('field-grant', 'token_exchange');
    expect(screen.getByTestId('section-token-exchange')).toBeTruthy();
    const subjects = [...(screen.getByTestId('field-token_exchange.subject_profile') as HTMLSelectElement).options].map((o) => o.value);
    expect(subjects).toEqual(['', 'ci-robot', 'web sign-in']);
    expect(screen.queryByTestId('field-token_exchange.actor_token')).toBeNull();
    await choose('field-token_exchange.subject_profile', 'web sign-in');
    await choose('field-token_exchange.subject_token', 'id');
    await choose('field-token_exchange.actor_profile', 'ci-robot');
    expect(screen.getByTestId('field-token_exchange.actor_token')).toBeTruthy();
    await type('field-token_exchange.requested_token_type', 'urn:ietf:params:oauth:token-type:jwt');
    await fireEvent.submit(screen.getByTestId('profile-form'));

    expect((await screen.findByTestId('field-error-token_exchange.subject_profile')).textContent).toContain('cycle');
    expect(screen.getByTestId('field-token_exchange.subject_profile').getAttribute('aria-invalid')).toBe('true');
    const create = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile')![1] as { config: ProfileConfig };
    expect(create.config.grant).toBe('token_exchange');
    expect(create.config.token_exchange).toEqual({
      subject_profile: 'web sign-in',
      subject_token: 'id',
      actor_profile: 'ci-robot',
      actor_token: 'access',
      requested_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    });
    desk.profiles = [];
  });

  it('client_secret_jwt: a secret field, HMAC algorithms only, HS256 by default', async () => {
    render(ProfileForm);
    await type('field-name', 'secret-jwt');
    await type('field-client_id', 'c');
    await choose('field-auth_method', 'client_secret_jwt');
    const secret = screen.getByTestId('field-client_secret') as HTMLInputElement;
    expect(secret.type).toBe('password');
    const algs = [...(screen.getByTestId('field-client_assertion.alg') as HTMLSelectElement).options].map((o) => o.value);
    expect(algs).toEqual(['HS256', 'HS384', 'HS512']);
    await type('field-client_secret', 's3cret');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    const args = call![1] as { config: ProfileConfig; clientSecret: string | null };
    expect(args.config.client_assertion.alg).toBe('HS256');
    // Back to private_key_jwt: a key algorithm again.
    await choose('field-auth_method', 'private_key_jwt');
    expect((screen.getByTestId('field-client_assertion.alg') as HTMLSelectElement).value).toBe('RS256');
  });

  it('PAR: a checkbox and an endpoint field, sent with the profile', async () => {
    render(ProfileForm);
    await type('field-name', 'par');
    await type('field-client_id', 'c');
    await type('field-client_secret', 's');
    await fireEvent.click(screen.getByTestId('field-par'));
    await type('field-endpoints.par', 'https://idp.example/par');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    const args = call![1] as { config: ProfileConfig };
    expect(args.config.par).toBe(true);
    expect(args.config.endpoints.par).toBe('https://idp.example/par');
  });

  it('DPoP: off by default, the chosen key algorithm sent with the profile', async () => {
    render(ProfileForm);
    await type('field-name', 'bound');
    await type('field-client_id', 'c');
    await type('field-client_secret', 's');
    expect((screen.getByTestId('field-dpop') as HTMLSelectElement).value).toBe('');
    await choose('field-dpop', 'EdDSA');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    const args = call![1] as { config: ProfileConfig };
    expect(args.config.dpop).toBe('EdDSA');
  });

  it('FAPI 2.0: the switch is sent, and each rule the core names shows under its field', async () => {
    invokeMock.mockImplementation(async (cmd: string) => {
      if (cmd === 'create_profile') {
        throw {
          code: 'invalid_input',
          message: 'FAPI 2.0 rules broken',
          fields: [
            { field: 'par', message: 'FAPI 2.0: authorization requests are pushed first (PAR).' },
            { field: 'dpop', message: 'FAPI 2.0: tokens must be sender-constrained.' },
          ],
        };
      }
      throw { code: 'internal', message: `unexpected ${cmd}` };
    });
    render(ProfileForm);
    await type('field-name', 'fapi');
    await type('field-client_id', 'c');
    await type('field-client_secret', 's');
    await fireEvent.click(screen.getByTestId('field-fapi2'));
    await fireEvent.submit(screen.getByTestId('profile-form'));
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    expect((call![1] as { config: ProfileConfig }).config.fapi2).toBe(true);
    expect((await screen.findByTestId('field-error-par')).textContent).toContain('pushed first');
    expect(screen.getByTestId('field-error-dpop').textContent).toContain('sender-constrained');
  });

  it('checks the setup before saving, with the secret typed in the form, and saves nothing', async () => {
    invokeMock.mockImplementation(async (cmd: string) => {
      if (cmd === 'check_config')
        return {
          profile_name: 'new',
          checked_at: 0,
          duration_ms: 12,
          checks: [
            {
              id: 'client:authentication',
              layer: 'client',
              title: 'Client authentication',
              status: 'fail',
              seen: 'With client_secret_basic: invalid_client.',
              fix: 'client_secret_post authenticates: switch to it.',
              exchanges: [],
              duration_ms: 3,
            },
          ],
        };
      throw { code: 'internal', message: `unexpected ${cmd}` };
    });
    render(ProfileForm);
    await type('field-name', 'new');
    await type('field-client_id', 'cc-post');
    await type('field-issuer', 'https://op.example');
    await type('field-client_secret', 's3cret');
    await choose('field-grant', 'client_credentials');
    await fireEvent.click(screen.getByTestId('form-check-run'));
    expect((await screen.findByTestId('form-check-summary')).textContent).toContain('1 failed');
    expect(screen.getByText(/switch to it/)).toBeTruthy();
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'check_config');
    const args = call![1] as { config: ProfileConfig; id: string | null; secret: string | null };
    expect(args.config.client_id).toBe('cc-post');
    expect(args.config.grant).toBe('client_credentials');
    expect(args.id).toBeNull();
    expect(args.secret).toBe('s3cret');
    expect(invokeMock.mock.calls.some(([cmd]) => cmd === 'create_profile')).toBe(false);
  });

  it('a form the core refuses is not checked: the fields say what to fix', async () => {
    invokeMock.mockImplementation(async (cmd: string) => {
      if (cmd === 'check_config') throw REJECTION;
      throw { code: 'internal', message: `unexpected ${cmd}` };
    });
    render(ProfileForm);
    await type('field-client_id', 'c');
    await fireEvent.click(screen.getByTestId('form-check-run'));
    expect((await screen.findByTestId('field-error-name')).textContent).toBe('Give the profile a name.');
    expect(screen.getByTestId('field-error-scopes').textContent).toContain('is not a scope token');
    expect(screen.queryByTestId('form-check-summary')).toBeNull();
  });

  it('secret sources: a command or a variable instead of the keychain, sent with create, the secret input hidden', async () => {
    render(ProfileForm);
    await choose('field-auth_method', 'client_secret_post');
    expect(screen.getByTestId('field-client_secret')).toBeTruthy();
    await choose('secret-source-client_secret-from', 'command');
    expect(screen.queryByTestId('field-client_secret')).toBeNull();
    expect(screen.getByTestId('secret-source-client_secret-hint').textContent).toContain('never stored');
    await type('secret-source-client_secret-argv', `op read 'op://team/gw/client secret'`);
    await type('secret-source-client_secret-timeout', '30');
    await choose('secret-source-tls_key-from', 'env');
    await type('secret-source-tls_key-var', 'QWAC_KEY');
    expect(screen.getByLabelText('TLS key from')).toBeTruthy();
    await type('field-name', 'gw');
    await type('field-client_id', 'c');
    await fireEvent.submit(screen.getByTestId('profile-form'));
    const call = invokeMock.mock.calls.find(([cmd]) => cmd === 'create_profile');
    const args = call![1] as { config: ProfileConfig; clientSecret: string | null };
    expect(args.config.secrets).toEqual({
      client_secret: { from: 'command', argv: ['op', 'read', 'op://team/gw/client secret'], timeout_secs: 30 },
      private_key: { from: 'keychain' },
      tls_key: { from: 'env', var: 'QWAC_KEY' },
    });
    expect(args.clientSecret).toBeNull();
  });

  it('follows a change made elsewhere (a pulled workspace file) while untouched, never over typing', async () => {
    const first = makeProfile({ scopes: ['api:read'] });
    const view = render(ProfileForm, { props: { profile: first } });
    const scopes = screen.getByTestId('field-scopes') as HTMLInputElement;
    expect(scopes.value).toBe('api:read');
    await view.rerender({ profile: { ...first, scopes: ['api:read', 'api:write'] } });
    expect(scopes.value).toBe('api:read api:write');
    await type('field-client_id', 'typed-by-me');
    await view.rerender({ profile: { ...first, client_id: 'from-disk', scopes: ['x'] } });
    expect((screen.getByTestId('field-client_id') as HTMLInputElement).value).toBe('typed-by-me');
    expect(scopes.value).toBe('api:read api:write');
  });
});
