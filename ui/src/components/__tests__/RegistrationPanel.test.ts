// The registration panel of a dynamically registered profile: the metadata as the server has it,
// a redirect URI added and removed (RFC 7592 update), the registration deleted after a confirm.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { confirmation } from '../../lib/confirm.svelte';
import { makeProfile } from '../../test/fixtures';
import RegistrationPanel from '../RegistrationPanel.svelte';

const invokeMock = vi.mocked(invoke);
const profile = makeProfile({ id: 'mcp', name: 'mcp', client_id: 'dcr-1', registration_client_uri: 'https://auth.example/register/dcr-1' });

let uris: string[] = [];

beforeEach(() => {
  uris = ['http://127.0.0.1/callback', 'http://localhost/callback'];
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
    const a = (args ?? {}) as Record<string, unknown>;
    switch (cmd) {
      case 'registration':
        return { client_id: 'dcr-1', redirect_uris: uris, token_endpoint_auth_method: 'none' };
      case 'update_registration': {
        const add = a.addRedirectUris as string[];
        const remove = a.removeRedirectUris as string[];
        uris = [...uris, ...add].filter((u) => !remove.includes(u));
        return { client_id: 'dcr-1', redirect_uris: uris, token_endpoint_auth_method: 'none' };
      }
      case 'delete_registration':
        return { ...profile, registration_client_uri: null };
      default:
        throw { code: 'internal', message: `unexpected ${cmd}`, fields: [], checks: [] };
    }
  });
});

describe('Registration panel', () => {
  it('shows the registration as the server has it', async () => {
    render(RegistrationPanel, { profile });
    await screen.findByTestId('registration-uris');
    expect(invokeMock).toHaveBeenCalledWith('registration', { id: 'mcp' });
    expect(screen.getByTestId('registration-uris').textContent).toContain('http://localhost/callback');
    expect(screen.getByTestId('registration-metadata').textContent).toContain('token_endpoint_auth_method');
  });

  it('adds and removes a redirect URI', async () => {
    render(RegistrationPanel, { profile });
    await screen.findByTestId('registration-uris');
    await fireEvent.input(screen.getByTestId('registration-new-uri'), { target: { value: 'http://127.0.0.1:8999/cb' } });
    await fireEvent.click(screen.getByTestId('registration-add-uri'));
    expect(invokeMock).toHaveBeenCalledWith('update_registration', {
      id: 'mcp',
      addRedirectUris: ['http://127.0.0.1:8999/cb'],
      removeRedirectUris: [],
    });
    await waitFor(() => expect(screen.getByTestId('registration-uris').textContent).toContain('8999'));
    await fireEvent.click(screen.getAllByTestId('registration-remove-uri')[0]);
    expect(invokeMock).toHaveBeenCalledWith('update_registration', {
      id: 'mcp',
      addRedirectUris: [],
      removeRedirectUris: ['http://127.0.0.1/callback'],
    });
  });

  it('deletes the registration only after the confirmation', async () => {
    render(RegistrationPanel, { profile });
    await screen.findByTestId('registration-uris');
    await fireEvent.click(screen.getByTestId('registration-delete'));
    expect(confirmation.pending?.confirmLabel).toBe('Delete registration');
    confirmation.answer(false);
    await Promise.resolve();
    expect(invokeMock.mock.calls.map((c) => c[0])).not.toContain('delete_registration');
    await fireEvent.click(screen.getByTestId('registration-delete'));
    confirmation.answer(true);
    await waitFor(() => expect(invokeMock).toHaveBeenCalledWith('delete_registration', { id: 'mcp' }));
    await waitFor(() => expect(screen.queryByTestId('registration-uris')).toBeNull());
  });
});
