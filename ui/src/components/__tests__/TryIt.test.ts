// "Try it": sends with the profile's token through the shell, shows status, time and the JSON
// body pretty-printed; a 401 shows the decoded challenge and refreshes before it retries; the
// last requests come from the exchange log and copy as curl without a token value.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import type { ApiResponse } from '../../lib/bindings/ApiResponse';
import type { Exchange } from '../../lib/bindings/Exchange';
import { curlLine } from '../../lib/tryit';
import { makeProfile } from '../../test/fixtures';
import TryIt from '../TryIt.svelte';

const profile = makeProfile({ id: 'bank', name: 'bank api' });
profile.api_url = 'https://api.example/v1/accounts';

function answer(over: Partial<ApiResponse>): ApiResponse {
  return {
    url: 'https://api.example/v1/accounts',
    status: 200,
    headers: [{ name: 'content-type', value: 'application/json' }],
    body: '{"accounts":[{"iban":"FI00"}]}',
    duration_ms: 42,
    refreshed: false,
    challenge: null,
    ...over,
  };
}

const past: Exchange = {
  id: 1,
  profile_id: 'bank',
  operation: 'api',
  at: 1000,
  method: 'POST',
  url: 'https://api.example/v1/payments',
  status: 201,
  duration_ms: 12,
  request_headers: [
    { name: 'authorization', value: 'Bearer <redacted>' },
    { name: 'content-type', value: 'application/json' },
    { name: 'x-api-key', value: '<redacted>' },
  ],
  request_body: '{"amount":1}',
  response_headers: [],
  response_body: '',
  error: null,
};

afterEach(() => vi.mocked(invoke).mockReset());

describe('Try it', () => {
  it('sends to the API URL and shows status, time and the JSON body pretty-printed', async () => {
    const calls: [string, unknown][] = [];
    vi.mocked(invoke).mockImplementation(async (cmd: string, args?: unknown) => {
      calls.push([cmd, args]);
      if (cmd === 'exchanges') return [];
      if (cmd === 'send_request') return answer({});
      throw new Error(cmd);
    });
    render(TryIt, { profile });
    expect((screen.getByTestId('try-url') as HTMLInputElement).value).toBe('https://api.example/v1/accounts');
    await fireEvent.click(screen.getByTestId('try-send'));
    await waitFor(() => expect(screen.getByTestId('try-status').textContent).toBe('200'));
    expect(screen.getByTestId('try-time').textContent).toBe('42 ms');
    expect(screen.getByTestId('try-body-view').textContent).toBe('{\n  "accounts": [\n    {\n      "iban": "FI00"\n    }\n  ]\n}');
    const sent = calls.find(([c]) => c === 'send_request')![1] as { id: string; request: { method: string; body: string | null } };
    expect(sent.id).toBe('bank');
    expect(sent.request.method).toBe('GET');
    expect(sent.request.body).toBeNull();
    expect(screen.queryByTestId('try-challenge')).toBeNull();
  });

  it('decodes a 401 challenge and refreshes before it retries', async () => {
    const order: string[] = [];
    let sends = 0;
    vi.mocked(invoke).mockImplementation(async (cmd: string) => {
      order.push(cmd);
      if (cmd === 'exchanges') return [];
      if (cmd === 'refresh_token') return {};
      if (cmd === 'send_request') {
        sends += 1;
        return sends === 1
          ? answer({
              status: 401,
              body: 'unauthorized',
              refreshed: true,
              challenge: {
                scheme: 'DPoP',
                realm: null,
                error: 'invalid_token',
                error_description: 'The access token expired',
                scope: 'accounts:read',
                algs: 'ES256',
                dpop_nonce: 'n-123',
                resource_metadata: null,
              },
            })
          : answer({});
      }
      throw new Error(cmd);
    });
    render(TryIt, { profile });
    await fireEvent.click(screen.getByTestId('try-send'));
    await waitFor(() => expect(screen.getByTestId('try-status').textContent).toBe('401'));
    const challenge = screen.getByTestId('try-challenge').textContent!;
    expect(challenge).toContain('invalid_token');
    expect(challenge).toContain('The access token expired');
    expect(challenge).toContain('accounts:read');
    expect(challenge).toContain('n-123');
    expect(screen.getByTestId('try-refreshed')).toBeTruthy();
    // Renewed once and still refused: said plainly, and not tried again by itself.
    expect(screen.getByTestId('try-still-refused').textContent).toContain('not tried again');
    expect(sends).toBe(1);
    expect(screen.getByTestId('try-body-view').textContent).toBe('unauthorized');
    await fireEvent.click(screen.getByTestId('try-refresh-retry'));
    await waitFor(() => expect(screen.getByTestId('try-status').textContent).toBe('200'));
    const tail = order.filter((c) => c !== 'exchanges').slice(-2);
    expect(tail).toEqual(['refresh_token', 'send_request']);
  });

  it('lists the last requests and copies them as curl without a token value', async () => {
    vi.mocked(invoke).mockImplementation(async (cmd: string) => {
      if (cmd === 'exchanges') return [{ ...past, operation: 'token:client_credentials' }, past];
      throw new Error(cmd);
    });
    render(TryIt, { profile });
    await waitFor(() => expect(screen.getAllByTestId('try-copy-curl').length).toBe(1));
    const line = curlLine(past, "bank's api");
    expect(line).toBe(
      `curl -X POST -H "Authorization: Bearer $(tokendesk token 'bank'\\''s api')" -H 'content-type: application/json' --data '{"amount":1}' 'https://api.example/v1/payments'`,
    );
    expect(line).not.toContain('<redacted>');
  });

  it("takes a header the log redacted by name from the profile's own headers, never a token", () => {
    const own = [
      { name: 'x-api-key', value: 'tpp-client' },
      { name: 'x-request-id', value: '{{uuid}}' },
    ];
    const e: Exchange = {
      ...past,
      method: 'GET',
      request_body: '',
      request_headers: [
        { name: 'authorization', value: 'Bearer <redacted>' },
        { name: 'x-api-key', value: '<redacted>' },
        { name: 'x-request-id', value: '5f0c6a3e-0000-4000-8000-000000000001' },
        { name: 'x-session-token', value: '<redacted>' },
      ],
    };
    expect(curlLine(e, 'bank', own)).toBe(
      `curl -H "Authorization: Bearer $(tokendesk token 'bank')" -H 'x-api-key: tpp-client' -H 'x-request-id: 5f0c6a3e-0000-4000-8000-000000000001' 'https://api.example/v1/payments'`,
    );
    // Without the profile's value, a redacted header stays out rather than go out as "<redacted>".
    expect(curlLine(e, 'bank')).not.toContain('x-api-key');
  });
});
