// The inspector decodes without the raw value, fetches it only on an explicit Reveal, drops it
// on Hide, and lists every raw field of the token response, epoch values also as dates.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import type { TokenInspection } from '../../lib/bindings/TokenInspection';
import { makeToken, REF } from '../../test/fixtures';
import Inspector from '../Inspector.svelte';

const invokeMock = vi.mocked(invoke);
const RAW_VALUE = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

const token = makeToken({
  refresh: { preview: '•••• (20 chars)', fingerprint: 'aa', is_jwt: false },
  raw: {
    access_token: '<redacted>',
    token_type: 'BearerToken',
    expires_in: '1799',
    status: 'approved',
    refresh_count: '3',
    refresh_token_expires_in: '899',
    refresh_token_issued_at: '1700000000123',
    issued_at: '1700000000000',
    api_product_list: '[accounts, payments]',
  },
});

beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
    const { kind } = (args ?? {}) as { kind?: string };
    if (cmd === 'inspect_token' && kind === 'access_token') {
      const r: TokenInspection = {
        kind: 'access_token',
        token: REF,
        jwt: { header: { alg: 'RS256', kid: 'k1' }, claims: { sub: 'alice', iat: 1_700_000_000, exp: 1_700_003_600 } },
        not_jwt: null,
        validation: null,
      };
      return r;
    }
    if (cmd === 'inspect_token' && kind === 'refresh_token') {
      return { kind: 'refresh_token', token: token.refresh, jwt: null, not_jwt: 'Opaque: not three dot-separated parts.', validation: null };
    }
    if (cmd === 'reveal_token') return RAW_VALUE;
    throw { code: 'internal', message: `unexpected ${cmd}` };
  });
});

describe('token inspector', () => {
  it('shows the decoded JWT and time claims, and the raw value only after Reveal', async () => {
    render(Inspector, { token });
    expect((await screen.findByTestId('jwt-claims')).textContent).toContain('"sub": "alice"');
    expect(screen.getByTestId('jwt-header').textContent).toContain('"kid": "k1"');
    const times = screen.getByTestId('time-claims').textContent!;
    expect(times).toContain('2023-11-14T22:13:20.000Z'); // iat
    expect(times).toContain('2023-11-14T23:13:20.000Z'); // exp

    expect(screen.getByTestId('token-preview').textContent).toBe(REF.preview);
    expect(invokeMock.mock.calls.some(([cmd]) => cmd === 'reveal_token')).toBe(false);
    expect(document.body.innerHTML).not.toContain(RAW_VALUE);

    await fireEvent.click(screen.getByTestId('reveal'));
    expect(((await screen.findByTestId('revealed-value')) as HTMLTextAreaElement).value).toBe(RAW_VALUE);
    expect(invokeMock).toHaveBeenCalledWith('reveal_token', { id: 'p1', kind: 'access_token' });

    await fireEvent.click(screen.getByTestId('hide'));
    expect(screen.queryByTestId('revealed-value')).toBeNull();
    expect(document.body.innerHTML).not.toContain(RAW_VALUE);
  });

  it('says why an opaque token is not a JWT', async () => {
    render(Inspector, { token });
    await fireEvent.click(screen.getByTestId('inspect-tab-refresh_token'));
    expect((await screen.findByTestId('not-jwt')).textContent).toContain('Opaque: not three dot-separated parts.');
  });

  it('lists every raw field, non-standard ones marked, epoch values as dates', async () => {
    render(Inspector, { token });
    const table = screen.getByTestId('raw-fields');
    const names = [...table.querySelectorAll('tbody tr')].map((r) => r.getAttribute('data-testid'));
    expect(names).toEqual(Object.keys(token.raw).map((k) => `raw-field-${k}`));
    const row = (k: string) => screen.getByTestId(`raw-field-${k}`).textContent!;
    expect(row('refresh_token_issued_at')).toContain('2023-11-14T22:13:20.123Z');
    expect(row('issued_at')).toContain('2023-11-14T22:13:20.000Z');
    expect(row('api_product_list')).toContain('non-standard');
    expect(row('token_type')).not.toContain('non-standard');
    expect(row('refresh_count')).not.toContain('Z'); // a counter is not a date
    expect(row('expires_in')).not.toContain('T');
  });
});
