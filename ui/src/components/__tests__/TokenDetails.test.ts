// An exchanged token shows its chain: which profile's token it came from (by the profile's
// current name), the fingerprint of what was sent, and whether that token has changed since.
import { render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { desk } from '../../lib/desk.svelte';
import { makeProfile, makeToken, REF } from '../../test/fixtures';
import TokenDetails from '../TokenDetails.svelte';

const upstream = makeProfile({ id: 'up', name: 'ci robot' });
const downstream = makeProfile({ id: 'down', name: 'downstream', grant: 'token_exchange' });
const exchanged = makeToken({
  profile_id: 'down',
  grant: 'token_exchange',
  token_type: 'N_A',
  issued_token_type: 'urn:ietf:params:oauth:token-type:jwt',
  exchanged_from: { profile_id: 'up', profile_name: 'old name', token: 'access', fingerprint: 'aaaa1111bbbb2222' },
});

afterEach(() => {
  desk.profiles = [];
  desk.tokens = [];
});

describe('token details of an exchanged token', () => {
  it('names the subject profile and token, and the issued token type', () => {
    desk.profiles = [upstream, downstream];
    desk.tokens = [makeToken({ profile_id: 'up', access: { ...REF, fingerprint: 'aaaa1111bbbb2222' } }), exchanged];
    render(TokenDetails, { token: exchanged, profile: downstream });
    const chain = screen.getByTestId('exchanged-from').textContent!;
    expect(chain).toContain('exchanged from ci robot (access token)');
    expect(chain).toContain('aaaa1111bbbb2222');
    expect(chain).not.toContain('changed since');
    expect(screen.getByTestId('issued-token-type').textContent).toBe('urn:ietf:params:oauth:token-type:jwt');
  });

  it('says when the subject token has changed since the exchange', () => {
    desk.profiles = [upstream, downstream];
    desk.tokens = [makeToken({ profile_id: 'up', access: { ...REF, fingerprint: 'cccc3333dddd4444' } }), exchanged];
    render(TokenDetails, { token: exchanged, profile: downstream });
    expect(screen.getByTestId('exchanged-from').textContent).toContain('changed since');
  });

  it('shows no chain for a token that was not exchanged', () => {
    const plain = makeToken({ profile_id: 'up' });
    desk.profiles = [upstream];
    desk.tokens = [plain];
    render(TokenDetails, { token: plain, profile: upstream });
    expect(screen.queryByTestId('exchanged-from')).toBeNull();
    expect(screen.queryByTestId('issued-token-type')).toBeNull();
  });
});

describe('how a token answer was read', () => {
  it('lists the notes the core made, and shows no section without any', () => {
    const profile = makeProfile({ id: 'sf', name: 'salesforce' });
    const token = makeToken({
      profile_id: 'sf',
      access_expires_at: null,
      notes: [
        { kind: 'no_expires_in', text: 'The answer has no expires_in. Expected: Salesforce is known for it.' },
        { kind: 'instance_url', text: 'Salesforce: API calls go to https://acme.my.salesforce.com.' },
      ],
    });
    desk.profiles = [profile];
    desk.tokens = [token];
    const { unmount } = render(TokenDetails, { token, profile });
    const items = screen.getByTestId('token-notes').querySelectorAll('li');
    expect([...items].map((li) => li.dataset.kind)).toEqual(['no_expires_in', 'instance_url']);
    expect(items[0].textContent).toContain('Salesforce is known for it');
    unmount();

    const plain = makeToken({ profile_id: 'sf' });
    render(TokenDetails, { token: plain, profile });
    expect(screen.queryByTestId('token-notes')).toBeNull();
  });
});
