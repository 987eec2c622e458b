// The typed command wrappers: camelCase argument names, every rejection normalised to
// {code, message, fields}.
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import * as api from '../api';
import { emptyConfig } from '../profileForm';

const invokeMock = vi.mocked(invoke);

beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockResolvedValue(null);
});

describe('api', () => {
  it('passes camelCase arguments, as Tauri maps them to the Rust parameters', async () => {
    const config = emptyConfig();
    await api.createProfile(config, 's');
    await api.waitLogin('L');
    await api.completeLogin('L', 'http://x/cb?code=1');
    await api.cancelLogin('L');
    await api.copyToken('p', 'curl');
    await api.revealToken('p', 'id_token');
    await api.setClientSecret('p', null);
    await api.setSettings({ clipboard_clear_secs: 45, close_to_tray: true, start_at_login: false, expiry_warning_hours: 24 });
    expect(invokeMock.mock.calls).toEqual([
      ['create_profile', { config, clientSecret: 's' }],
      ['wait_login', { loginId: 'L' }],
      ['complete_login', { loginId: 'L', redirectUrl: 'http://x/cb?code=1' }],
      ['cancel_login', { loginId: 'L' }],
      ['copy_token', { id: 'p', format: 'curl' }],
      ['reveal_token', { id: 'p', kind: 'id_token' }],
      ['set_client_secret', { id: 'p', secret: null }],
      ['set_settings', { settings: { clipboard_clear_secs: 45, close_to_tray: true, start_at_login: false, expiry_warning_hours: 24 } }],
    ]);
  });

  it('normalises every kind of rejection', async () => {
    invokeMock.mockRejectedValueOnce({ code: 'invalid_input', message: 'Bad.', fields: [{ field: 'name', message: 'x' }, { nonsense: 1 }] });
    await expect(api.listProfiles()).rejects.toEqual({ code: 'invalid_input', message: 'Bad.', fields: [{ field: 'name', message: 'x' }] });
    invokeMock.mockRejectedValueOnce({ code: 'timeout', message: 'Slow.' });
    await expect(api.listTokens()).rejects.toEqual({ code: 'timeout', message: 'Slow.', fields: [] });
    invokeMock.mockRejectedValueOnce('Command foo not found');
    await expect(api.listTokens()).rejects.toEqual({ code: 'internal', message: 'Command foo not found', fields: [] });
    invokeMock.mockRejectedValueOnce(undefined);
    await expect(api.listTokens()).rejects.toMatchObject({ code: 'internal' });
  });

  it('listens to "core-event" and hands over the payload', async () => {
    const seen: unknown[] = [];
    await api.onCoreEvent((e) => seen.push(e));
    const [name, handler] = vi.mocked(listen).mock.calls[0];
    expect(name).toBe('core-event');
    (handler as (e: unknown) => void)({ event: 'core-event', id: 1, payload: { type: 'profiles_changed' } });
    expect(seen).toEqual([{ type: 'profiles_changed' }]);
  });
});
