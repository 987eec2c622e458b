// Step-up in "Try it": an `insufficient_scope` or `insufficient_user_authentication` challenge
// shows what the API demands and "Sign in again with …", which starts the step-up sign-in with
// the demand; after it the acr/auth_time check's result is shown.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import type { ApiResponse } from '../../lib/bindings/ApiResponse';
import type { AuthChallenge } from '../../lib/bindings/AuthChallenge';
import { stepUpOf } from '../../lib/tryit';
import { makeProfile, makeToken } from '../../test/fixtures';
import TryIt from '../TryIt.svelte';

const profile = makeProfile({ id: 'mcp', name: 'mcp' });
profile.api_url = 'https://mcp.example/mcp';

const base: AuthChallenge = {
  scheme: 'Bearer',
  realm: null,
  error: null,
  error_description: null,
  scope: null,
  algs: null,
  dpop_nonce: null,
  resource_metadata: null,
};

function refused(challenge: AuthChallenge): ApiResponse {
  return { url: profile.api_url!, status: 403, headers: [], body: '', duration_ms: 5, refreshed: false, challenge };
}

function backend(challenge: AuthChallenge, met = true) {
  const calls: [string, unknown][] = [];
  vi.mocked(invoke).mockImplementation(async (cmd: string, args?: unknown) => {
    calls.push([cmd, args]);
    switch (cmd) {
      case 'exchanges':
        return [];
      case 'send_request':
        return refused(challenge);
      case 'begin_step_up_login':
        return { login_id: 'l1', profile_id: 'mcp', auth_url: 'https://auth.example/authorize', redirect_uri: 'http://127.0.0.1:1/callback', listening: true, browser_error: null };
      case 'wait_login':
        return makeToken({ profile_id: 'mcp' });
      case 'check_login_demand':
        return met;
      default:
        throw new Error(cmd);
    }
  });
  return calls;
}

afterEach(() => vi.mocked(invoke).mockReset());

describe('Step-up in Try it', () => {
  it('offers to sign in again with the scope an insufficient_scope challenge names', async () => {
    const calls = backend({ ...base, error: 'insufficient_scope', scope: 'files:write' });
    render(TryIt, { profile });
    await fireEvent.click(screen.getByTestId('try-send'));
    const prompt = await screen.findByTestId('try-step-up');
    expect(prompt.textContent).toContain('files:write');
    const button = screen.getByTestId('try-step-up-button');
    expect(button.textContent).toContain('Sign in again with scope files:write');
    await fireEvent.click(button);
    await waitFor(() => expect(screen.getByTestId('try-step-up-result').textContent).toContain('wider scope'));
    expect(calls.find(([c]) => c === 'begin_step_up_login')![1]).toEqual({ id: 'mcp', scopeAdd: ['files:write'], demand: {} });
    expect(calls.map(([c]) => c)).not.toContain('check_login_demand');
  });

  it('sends acr_values and max_age, then shows the check of the new token', async () => {
    const calls = backend({ ...base, error: 'insufficient_user_authentication', acr_values: 'urn:mace:incommon:iap:silver', max_age: 300 });
    render(TryIt, { profile });
    await fireEvent.click(screen.getByTestId('try-send'));
    const button = await screen.findByTestId('try-step-up-button');
    expect(button.textContent).toContain('acr_values urn:mace:incommon:iap:silver and max_age 300');
    await fireEvent.click(button);
    await waitFor(() => expect(screen.getByTestId('try-step-up-result').textContent).toContain('meet the demand'));
    const demand = { acr_values: 'urn:mace:incommon:iap:silver', max_age: 300 };
    expect(calls.find(([c]) => c === 'begin_step_up_login')![1]).toEqual({ id: 'mcp', scopeAdd: [], demand });
    expect(calls.find(([c]) => c === 'check_login_demand')![1]).toEqual({ id: 'mcp', demand });
  });

  it('says so when no token tells how the user signed in', async () => {
    backend({ ...base, error: 'insufficient_user_authentication', max_age: 60 }, false);
    render(TryIt, { profile });
    await fireEvent.click(screen.getByTestId('try-send'));
    await fireEvent.click(await screen.findByTestId('try-step-up-button'));
    await waitFor(() => expect(screen.getByTestId('try-step-up-result').textContent).toContain('the API has the last word'));
  });

  it('checks acr and auth_time after a step-up completed by pasting the redirect URL', async () => {
    const calls = backend({ ...base, error: 'insufficient_user_authentication', acr_values: 'urn:example:mfa', max_age: 60 });
    const answer = vi.mocked(invoke).getMockImplementation()!;
    vi.mocked(invoke).mockImplementation(async (cmd: string, args?: unknown) => {
      if (cmd === 'begin_step_up_login') {
        return { login_id: 'l2', profile_id: 'mcp', auth_url: 'https://auth.example/authorize', redirect_uri: 'https://app.example/cb', listening: false, browser_error: null };
      }
      if (cmd === 'complete_login') {
        calls.push([cmd, args]);
        return makeToken({ profile_id: 'mcp' });
      }
      return answer(cmd, args as Parameters<typeof answer>[1]);
    });
    render(TryIt, { profile });
    await fireEvent.click(screen.getByTestId('try-send'));
    await fireEvent.click(await screen.findByTestId('try-step-up-button'));
    // No listener: the sign-in waits for the address the browser landed on.
    const { logins } = await import('../../lib/login.svelte');
    await waitFor(() => expect(logins.get('mcp')?.phase).toBe('waiting'));
    expect(calls.map(([c]) => c)).not.toContain('check_login_demand');
    await logins.paste('mcp', 'https://app.example/cb?code=c&state=s');
    await waitFor(() => expect(screen.getByTestId('try-step-up-result').textContent).toContain('meet the demand'));
    expect(calls.find(([c]) => c === 'check_login_demand')![1]).toEqual({
      id: 'mcp',
      demand: { acr_values: 'urn:example:mfa', max_age: 60 },
    });
  });

  it('offers nothing for other challenges', () => {
    expect(stepUpOf({ ...base, error: 'invalid_token' })).toBeNull();
    expect(stepUpOf({ ...base, error: 'insufficient_scope' })).toBeNull();
    expect(stepUpOf(null)).toBeNull();
  });
});
