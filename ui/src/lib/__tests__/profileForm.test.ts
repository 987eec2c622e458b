import { describe, expect, it } from 'vitest';
import { configFromForm, emptyConfig, formFromConfig, joinArgv, knownFieldKeys, remapRowErrors, splitArgv } from '../profileForm';

describe('profile form ↔ ProfileConfig', () => {
  it('round-trips a config, all fields present', () => {
    const c = {
      ...emptyConfig(),
      name: 'gw',
      environment: 'sandbox',
      issuer: 'https://idp.example.com',
      client_id: 'abc',
      grant: 'client_credentials' as const,
      auth_method: 'client_secret_post' as const,
      scopes: ['accounts', 'payments'],
      endpoints: { ...emptyConfig().endpoints, token: 'https://gw.example.com/token' },
      headers: [{ name: 'x-api-key', value: 'abc' }],
      refresh: { auto: false, remaining_percent: 30, min_seconds_before: 60 },
      api_url: 'https://api.example.com/v1',
      client_assertion: { alg: 'ES256' as const, kid: 'key-2', audience: 'https://idp.example.com' },
      signed_request: true,
      generated_secret: { issuer: 'TEAM', key_id: 'KID', audience: 'https://appleid.apple.com', lifetime_secs: 300 },
      registration_client_uri: 'https://idp.example.com/reg/abc',
      tls_client_cert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      tls_ca: '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----',
    };
    const { config, errors } = configFromForm(formFromConfig(c));
    expect(errors).toEqual([]);
    expect(config).toEqual(c);
    expect(Object.keys(config).sort()).toEqual(Object.keys(emptyConfig()).sort());
  });

  it('turns empty inputs into null, trims, parses scopes and drops blank rows', () => {
    const f = formFromConfig(emptyConfig());
    f.name = '  my profile ';
    f.issuer = '   ';
    f.endpoints.token = ' https://t.example.com/token ';
    f.scopes = ' openid   profile ';
    f.redirect_uri = '';
    f.headers = [
      { name: '', value: '' },
      { name: 'x-api-key', value: 'k' },
    ];
    const { config, rows } = configFromForm(f);
    expect(config.name).toBe('my profile');
    expect(config.issuer).toBeNull();
    expect(config.endpoints.token).toBe('https://t.example.com/token');
    expect(config.endpoints.jwks).toBeNull();
    expect(config.scopes).toEqual(['openid', 'profile']);
    expect(config.redirect_uri).toBeNull();
    expect(config.headers).toEqual([{ name: 'x-api-key', value: 'k' }]);
    expect(rows.headers).toEqual([1]);
  });

  it('refuses non-numbers in the refresh policy before asking the core', () => {
    const f = formFromConfig(emptyConfig());
    f.refresh.remaining_percent = '2x';
    f.refresh.min_seconds_before = '-5';
    const { errors } = configFromForm(f);
    expect(errors.map((e) => e.field)).toEqual(['refresh.remaining_percent', 'refresh.min_seconds_before']);
  });

  it('maps the core’s row errors back to the form rows they came from', () => {
    const f = formFromConfig(emptyConfig());
    f.headers = [
      { name: '', value: '' },
      { name: 'ok', value: '1' },
      { name: 'bad name', value: '2' },
    ];
    const { rows } = configFromForm(f);
    const mapped = remapRowErrors(
      [
        { field: 'headers[1]', message: 'bad' },
        { field: 'name', message: 'x' },
      ],
      rows,
    );
    expect(mapped).toEqual([
      { field: 'headers[2]', message: 'bad' },
      { field: 'name', message: 'x' },
    ]);
    const known = knownFieldKeys(f);
    expect(known('headers[2]')).toBe(true);
    expect(known('headers[3]')).toBe(false);
    expect(known('endpoints.token')).toBe(true);
  });

  it('keeps secret sources through the form, and a command line splits and joins as a shell would', () => {
    const c = emptyConfig();
    c.secrets = {
      client_secret: { from: 'command', argv: ['pass', 'show', "team/it's here"], timeout_secs: 30 },
      private_key: { from: 'env', var: 'KEY' },
      tls_key: { from: 'keychain' },
    };
    expect(configFromForm(formFromConfig(c)).config.secrets).toEqual(c.secrets);
    const argv = ['op', 'read', 'op://team/a b', '', `x"y`, "it's"];
    expect(splitArgv(joinArgv(argv))).toEqual(argv);
    expect(splitArgv(`vault kv get "-field=a b" kv\\ x`)).toEqual(['vault', 'kv', 'get', '-field=a b', 'kv x']);
    expect(splitArgv(`pass 'open`)).toBeNull();
  });
});
