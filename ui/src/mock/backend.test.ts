// The mock backend answers "Try it" as the shell does, so the panel works under `npm run dev:mock`:
// the URL resolved against the profile's API URL, the request logged redacted (operation "api"),
// a refused (revoked) token renewed once before the answer.
import { describe, expect, it, vi } from 'vitest';
import { emit } from '@tauri-apps/api/event';

vi.mock('@tauri-apps/api/event', () => ({ emit: vi.fn(async () => {}) }));
vi.mock('@tauri-apps/api/mocks', () => ({ mockIPC: vi.fn() }));

import type { ApiResponse } from '../lib/bindings/ApiResponse';
import type { Exchange } from '../lib/bindings/Exchange';
import type { TokenSet } from '../lib/bindings/TokenSet';
import { MockBackend } from './backend';
import { bulkData, demoData } from './demo';

const send = (b: MockBackend, id: string, url: string, method = 'GET') =>
  b.handle('send_request', { id, request: { method, url, headers: [], body: null } }) as Promise<ApiResponse>;

describe('mock send_request', () => {
  it("answers the profile's API URL with JSON and logs the request without a token", async () => {
    const b = new MockBackend(demoData(Date.now()), { latencyMs: 0 });
    const r = await send(b, 'gw-accounts', '');
    expect(r.url).toBe('https://sandbox.gateway.example-bank.fi/accounts/v3/accounts');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).accounts.length).toBeGreaterThan(0);
    expect(r.refreshed).toBe(false);
    const log = (await b.handle('exchanges', { id: 'gw-accounts' })) as Exchange[];
    const api = log.filter((e) => e.operation === 'api');
    expect(api.map((e) => [e.method, e.url, e.status])).toEqual([['GET', r.url, 200]]);
    expect(api[0].request_headers.find((h) => h.name === 'authorization')?.value).toBe('Bearer <redacted>');
  });

  it('resolves a relative path, and says 404 for an unknown one', async () => {
    const b = new MockBackend(demoData(Date.now()), { latencyMs: 0 });
    const r = await send(b, 'gw-accounts', '/nowhere');
    expect(r.url).toBe('https://sandbox.gateway.example-bank.fi/nowhere');
    expect(r.status).toBe(404);
  });

  it('renews a refused token once and says so', async () => {
    const data = demoData(Date.now());
    const t = data.tokens.find((x) => x.profile_id === 'gw-accounts')!;
    t.revoked_at = Date.now();
    const b = new MockBackend(data, { latencyMs: 0 });
    const r = await send(b, 'gw-accounts', '');
    expect(r.refreshed).toBe(true);
    expect(r.status).toBe(200);
    expect(data.tokens.find((x) => x.profile_id === 'gw-accounts')!.revoked_at).toBeNull();
  });

  it('refuses an Authorization header of its own, as the core does', async () => {
    const b = new MockBackend(demoData(Date.now()), { latencyMs: 0 });
    await expect(
      b.handle('send_request', { id: 'gw-accounts', request: { method: 'GET', url: '', headers: [{ name: 'Authorization', value: 'Bearer x' }], body: null } }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('mock discover_api', () => {
  it('walks three steps to the authorization server, and breaks at an issuer mismatch', async () => {
    const { MockBackend: B } = await import('./backend');
    const b = new B(demoData(Date.now()), { latencyMs: 0 });
    const w = (await b.handle('discover_api', { apiUrl: 'https://mcp.files.example/mcp' })) as import('../lib/bindings/Walk').Walk;
    expect(w.steps.map((s) => s.link)).toEqual(['api', 'resource_metadata', 'authorization_server']);
    expect(w.discovered?.authorization_server).toBe('https://auth.files.example');
    const broken = (await b.handle('discover_api', { apiUrl: 'https://broken.example/api' })) as import('../lib/bindings/Walk').Walk;
    expect(broken.discovered).toBeNull();
    expect(broken.error?.code).toBe('issuer_mismatch');
  });
});

describe('mock tokens', () => {
  it('reads the tokens of some profiles as the core does: absent without one', async () => {
    const b = new MockBackend(bulkData(5, Date.now()), { latencyMs: 0 });
    const got = (await b.handle('tokens_of', { ids: ['bulk-3', 'nope', 'bulk-1'] })) as TokenSet[];
    expect(got.map((t) => t.profile_id).sort()).toEqual(['bulk-1', 'bulk-3']);
    expect(got[0]).not.toBe(b.data.tokens[1]); // a copy, as over IPC
  });

  it('renews a token in the background as the refresher does, and says so', () => {
    const data = bulkData(5, 1_000_000);
    const b = new MockBackend(data, { latencyMs: 0 });
    const old = data.tokens[2];
    vi.mocked(emit).mockClear();
    b.renewInBackground('bulk-2', 2_000_000);
    b.renewInBackground('nope', 2_000_000);
    const t = data.tokens[2];
    expect(t.obtained_at).toBe(2_000_000);
    expect(t.access_expires_at! - t.obtained_at).toBe(old.access_expires_at! - old.obtained_at);
    expect(t.access.fingerprint).not.toBe(old.access.fingerprint);
    expect(vi.mocked(emit).mock.calls).toEqual([['core-event', { type: 'token_changed', profile_id: 'bulk-2' }]]);
  });
});
