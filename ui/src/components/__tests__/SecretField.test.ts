// The client secret is write-only: a stored secret is never fetched or shown, and one typed to
// replace it leaves no trace in the DOM once stored.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import SecretField from '../SecretField.svelte';

const invokeMock = vi.mocked(invoke);
const SECRET = 'hunter2-very-secret';

beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string) => {
    if (cmd === 'has_client_secret') return true;
    if (cmd === 'set_client_secret') return null;
    throw { code: 'internal', message: `unexpected ${cmd}` };
  });
});

function inputsHolding(value: string) {
  return [...document.querySelectorAll('input')].filter((i) => i.value.includes(value));
}

describe('client secret field', () => {
  it('shows only whether a secret is stored, never a value', async () => {
    render(SecretField, { profileId: 'p1', authMethod: 'client_secret_basic' });
    expect((await screen.findByText('stored')).dataset.testid).toBe('secret-status');
    // Nothing to show a value in: no input until the user chooses to replace it.
    expect(screen.queryByTestId('field-client_secret')).toBeNull();
    expect(document.querySelectorAll('input').length).toBe(0);
    // Only the yes/no question was asked; the UI has no way to read a secret back.
    expect(invokeMock.mock.calls.map(([cmd]) => cmd)).toEqual(['has_client_secret']);
  });

  it('stores a replacement and forgets it at once', async () => {
    render(SecretField, { profileId: 'p1', authMethod: 'client_secret_post' });
    await screen.findByText('stored');
    await fireEvent.click(screen.getByTestId('secret-replace'));
    const input = screen.getByTestId('field-client_secret') as HTMLInputElement;
    expect(input.type).toBe('password');
    expect(input.value).toBe('');
    await fireEvent.input(input, { target: { value: SECRET } });
    await fireEvent.click(screen.getByTestId('secret-save'));
    await vi.waitFor(() => expect(screen.queryByTestId('field-client_secret')).toBeNull());
    expect(invokeMock).toHaveBeenCalledWith('set_client_secret', { id: 'p1', secret: SECRET });
    expect(screen.getByTestId('secret-status').textContent?.trim()).toBe('stored');
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(inputsHolding(SECRET)).toEqual([]);
    // Replace again: the input starts empty, not with the previous value.
    await fireEvent.click(screen.getByTestId('secret-replace'));
    expect((screen.getByTestId('field-client_secret') as HTMLInputElement).value).toBe('');
  });

  it('removes a stored secret after confirmation and says so', async () => {
    const { confirmation } = await import('../../lib/confirm.svelte');
    render(SecretField, { profileId: 'p1', authMethod: 'client_secret_basic' });
    await screen.findByText('stored');
    await fireEvent.click(screen.getByTestId('secret-remove'));
    confirmation.answer(true);
    await vi.waitFor(() => expect(screen.getByTestId('secret-status').textContent?.trim()).toBe('not stored'));
    expect(invokeMock).toHaveBeenCalledWith('set_client_secret', { id: 'p1', secret: null });
  });

  it('sends the secret of a new profile with create, from a password input', () => {
    render(SecretField, { profileId: null, authMethod: 'client_secret_basic' });
    const input = screen.getByTestId('field-client_secret') as HTMLInputElement;
    expect(input.type).toBe('password');
    expect(input.autocomplete).toBe('off');
    expect(invokeMock).not.toHaveBeenCalled();
  });

  it('private_key_jwt: reads a PEM file into a masked field and stores it as the key', async () => {
    render(SecretField, { profileId: 'p1', authMethod: 'private_key_jwt', savedAuthMethod: 'private_key_jwt', alg: 'ES256' });
    await screen.findByText('stored');
    expect(screen.getByText(/ES256/)).toBeTruthy();
    await fireEvent.click(screen.getByTestId('secret-replace'));
    const pem = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n';
    const file = new File([pem], 'tpp.pem', { type: 'application/x-pem-file' });
    const input = screen.getByTestId('client_secret-file') as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    await fireEvent.change(input);
    const area = screen.getByTestId('field-client_secret') as HTMLTextAreaElement;
    await vi.waitFor(() => expect(area.value).toBe(pem));
    expect(area.classList.contains('masked')).toBe(true);
    await fireEvent.click(screen.getByTestId('secret-save'));
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('set_client_secret', { id: 'p1', secret: pem }));
    await vi.waitFor(() => expect(screen.queryByTestId('field-client_secret')).toBeNull());
  });

  it('refuses a file that is not PEM, without storing anything', async () => {
    render(SecretField, { profileId: null, authMethod: 'private_key_jwt' });
    const input = screen.getByTestId('client_secret-file') as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: [new File(['\u0030\u0082'], 'key.der')], configurable: true });
    await fireEvent.change(input);
    expect((await screen.findByTestId('client_secret-file-error')).textContent).toContain('not PEM');
    expect((screen.getByTestId('field-client_secret') as HTMLTextAreaElement).value).toBe('');
  });

  it('waits for a switched auth method to be saved before storing a credential', async () => {
    render(SecretField, { profileId: 'p1', authMethod: 'private_key_jwt', savedAuthMethod: 'client_secret_basic' });
    await screen.findByText('stored');
    expect(screen.getByTestId('secret-pending').textContent).toContain('Save the profile');
    expect(screen.queryByTestId('secret-replace')).toBeNull();
  });
});
