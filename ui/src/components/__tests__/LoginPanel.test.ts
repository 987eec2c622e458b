// Sign-in: begin_login, then "Waiting for the browser…" with the URL while wait_login runs;
// Cancel calls cancel_login and ends quietly; a pasted URL goes to complete_login; errors show
// in place.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { desk } from '../../lib/desk.svelte';
import { makeProfile, makeToken } from '../../test/fixtures';
import GetToken from '../GetToken.svelte';

const invokeMock = vi.mocked(invoke);
const profile = makeProfile({ id: 'ac', name: 'Auth code', grant: 'authorization_code' });
const started = (listening: boolean, browser_error: string | null = null) => ({
  login_id: 'L1',
  profile_id: 'ac',
  auth_url: 'https://idp.example.com/authorize?client_id=c&state=s',
  redirect_uri: 'http://127.0.0.1:5555/callback',
  listening,
  browser_error,
});
let browserError: string | null = null;

let rejectWait: (e: unknown) => void = () => {};

beforeEach(() => {
  browserError = null;
  desk.tokens = [];
  invokeMock.mockReset();
});

function backend(listening: boolean) {
  invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
    switch (cmd) {
      case 'begin_login':
        return started(listening, browserError);
      case 'wait_login':
        return new Promise((_, reject) => (rejectWait = reject));
      case 'cancel_login':
        rejectWait({ code: 'cancelled', message: 'The sign-in was cancelled.' });
        return null;
      case 'complete_login': {
        const { redirectUrl } = args as { redirectUrl: string };
        if (!redirectUrl.includes('code=')) throw { code: 'invalid_input', message: 'The URL has no code parameter.' };
        return makeToken({ profile_id: 'ac', grant: 'authorization_code' });
      }
    }
    throw { code: 'internal', message: cmd };
  });
}

/** Ends the attempt in progress, so the next test starts from "Sign in". */
async function cancelAttempt() {
  await fireEvent.click(screen.getByTestId('login-cancel'));
  await vi.waitFor(() => expect(screen.getByTestId('sign-in').textContent).toContain('Sign in'));
}

describe('sign-in', () => {
  it('waits for the browser, shows the URL, and cancels quietly', async () => {
    backend(true);
    render(GetToken, { profile, hasToken: false });
    await fireEvent.click(screen.getByTestId('sign-in'));
    expect((await screen.findByTestId('login-waiting')).textContent).toBe('Waiting for the browser…');
    expect((screen.getByTestId('login-auth-url') as HTMLInputElement).value).toBe(started(true).auth_url);
    expect(invokeMock).toHaveBeenCalledWith('wait_login', { loginId: 'L1' });

    await fireEvent.click(screen.getByTestId('login-cancel'));
    await vi.waitFor(() => expect(screen.getByTestId('sign-in').textContent).toContain('Sign in'));
    expect(invokeMock).toHaveBeenCalledWith('cancel_login', { loginId: 'L1' });
    expect(screen.queryByTestId('error-message')).toBeNull(); // a cancel is not an error
  });

  it('finishes with a pasted redirect URL, showing a refused one in place', async () => {
    backend(false);
    render(GetToken, { profile, hasToken: false });
    await fireEvent.click(screen.getByTestId('sign-in'));
    const paste = (await screen.findByTestId('login-paste')) as HTMLInputElement;
    await fireEvent.input(paste, { target: { value: 'http://127.0.0.1:5555/callback?state=s' } });
    await fireEvent.click(screen.getByTestId('login-paste-submit'));
    expect((await screen.findByTestId('error-message')).textContent).toContain('no code parameter');

    await fireEvent.input(paste, { target: { value: 'http://127.0.0.1:5555/callback?code=abc&state=s' } });
    await fireEvent.click(screen.getByTestId('login-paste-submit'));
    await vi.waitFor(() => expect(desk.tokens.map((t) => t.profile_id)).toEqual(['ac']));
    expect(invokeMock).toHaveBeenCalledWith('complete_login', {
      loginId: 'L1',
      redirectUrl: 'http://127.0.0.1:5555/callback?code=abc&state=s',
    });
    expect(screen.queryByTestId('login-panel')).toBeNull();
  });

  it('shows a failed sign-in in place with a way to try again', async () => {
    backend(true);
    render(GetToken, { profile, hasToken: false });
    await fireEvent.click(screen.getByTestId('sign-in'));
    await screen.findByTestId('login-waiting');
    rejectWait({ code: 'timeout', message: 'Nobody came back from the browser within 5 minutes.' });
    expect((await screen.findByTestId('error-message')).textContent).toContain('within 5 minutes');
    expect(screen.getByTestId('sign-in').textContent).toContain('Try again');
  });

  it('says so when no browser could be opened, and offers the paste at once', async () => {
    backend(true);
    browserError = 'No browser could be opened: the system\'s opener failed (exit status: 3).';
    render(GetToken, { profile, hasToken: false });
    await fireEvent.click(screen.getByTestId('sign-in'));
    expect((await screen.findByTestId('login-no-browser')).textContent).toContain('No browser could be opened');
    expect(screen.getByTestId('login-panel').textContent).not.toContain('The system browser was opened');
    expect(screen.getByTestId('login-paste')).toBeTruthy();
    await cancelAttempt();
  });

  it('says the browser was opened only when it was', async () => {
    backend(true);
    render(GetToken, { profile, hasToken: false });
    await fireEvent.click(screen.getByTestId('sign-in'));
    await screen.findByTestId('login-waiting');
    expect(screen.queryByTestId('login-no-browser')).toBeNull();
    expect(screen.getByTestId('login-panel').textContent).toContain('The system browser was opened');
    await cancelAttempt();
  });

  it('shows each check of a refused ID token', async () => {
    backend(true);
    render(GetToken, { profile, hasToken: false });
    await fireEvent.click(screen.getByTestId('sign-in'));
    await screen.findByTestId('login-waiting');
    rejectWait({
      code: 'check_failed',
      message: 'The sign-in failed: the ID token did not pass its checks, so nothing was stored.',
      checks: [
        { name: 'signature', ok: false, detail: 'The signature does not verify.' },
        { name: 'iss', ok: true, detail: 'Issued by https://idp.example.com.' },
      ],
    });
    const failed = await screen.findByTestId('error-check-signature');
    expect(failed.dataset.ok).toBe('false');
    expect(failed.textContent).toContain('does not verify');
    expect(screen.getByTestId('error-check-iss').dataset.ok).toBe('true');
    await fireEvent.click(screen.getByText('Close'));
  });

  it('gets a client-credentials token in one click, errors in place', async () => {
    invokeMock.mockImplementation(async (cmd: string) => {
      if (cmd === 'fetch_token') throw { code: 'invalid_client', message: 'The provider rejected the client credentials.' };
      throw { code: 'internal', message: cmd };
    });
    render(GetToken, { profile: makeProfile(), hasToken: false });
    await fireEvent.click(screen.getByTestId('get-token'));
    expect((await screen.findByTestId('error-message')).textContent).toContain('rejected the client credentials');
    expect((screen.getByTestId('get-token') as HTMLButtonElement).disabled).toBe(false);
  });
});
