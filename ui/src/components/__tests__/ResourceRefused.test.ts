// invalid_target: the error offers "Retry without the resource", which turns the resource off
// on the profile (stop_sending_resource) and makes the same request again; other errors, or a
// profile without a resource, offer nothing.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { desk } from '../../lib/desk.svelte';
import { makeProfile, makeToken } from '../../test/fixtures';
import GetToken from '../GetToken.svelte';
import ProfileView from '../ProfileView.svelte';

const invokeMock = vi.mocked(invoke);
const RESOURCE = 'https://api.example/v1';
const REFUSED = {
  code: 'invalid_target',
  message: 'The provider refused the client-credentials token request (HTTP 400): invalid_target.',
  fields: [],
};

beforeEach(() => {
  desk.tokens = [];
  desk.profiles = [];
  invokeMock.mockReset();
});

describe('Retry without the resource', () => {
  it('turns the resource off on the profile, then gets the token again', async () => {
    const profile = makeProfile({ id: 'cc', name: 'cc', grant: 'client_credentials', resource: RESOURCE });
    desk.putProfile(profile);
    let sent: (string | null)[] = [];
    let current = profile;
    invokeMock.mockImplementation(async (cmd: string) => {
      switch (cmd) {
        case 'fetch_token':
          sent.push(current.resource);
          if (current.resource) throw REFUSED;
          return makeToken({ profile_id: 'cc' });
        case 'stop_sending_resource':
          current = { ...current, resource: null, resource_refused: RESOURCE };
          return current;
      }
      throw { code: 'internal', message: cmd };
    });
    render(GetToken, { profile, hasToken: false });
    await fireEvent.click(screen.getByTestId('get-token'));
    const offer = await screen.findByTestId('resource-refused-offer');
    expect(offer.textContent).toContain(RESOURCE);
    await fireEvent.click(screen.getByTestId('retry-without-resource'));
    await waitFor(() => expect(desk.tokenByProfile.get('cc')).toBeDefined());
    expect(sent).toEqual([RESOURCE, null]);
    expect(invokeMock).toHaveBeenCalledWith('stop_sending_resource', { id: 'cc' });
    expect(desk.profiles.find((p) => p.id === 'cc')?.resource_refused).toBe(RESOURCE);
    sent = [];
  });

  it('offers nothing for another error or a profile without a resource', async () => {
    const plain = makeProfile({ id: 'p', grant: 'client_credentials', resource: null });
    invokeMock.mockImplementation(async () => {
      throw REFUSED;
    });
    render(GetToken, { profile: plain, hasToken: false });
    await fireEvent.click(screen.getByTestId('get-token'));
    await screen.findByTestId('error-message');
    expect(screen.queryByTestId('resource-refused-offer')).toBeNull();
  });

  it('the profile says which resource it no longer sends', () => {
    const profile = makeProfile({ id: 'r', resource: null, resource_refused: RESOURCE });
    desk.putProfile(profile);
    invokeMock.mockImplementation(async () => []);
    render(ProfileView, { profile, tab: 'history' });
    const note = screen.getByTestId('resource-refused');
    expect(note.textContent).toContain(RESOURCE);
    expect(note.textContent).toContain('invalid_target');
  });
});
