// The mock backend answers "Try it" as the shell does, so the panel works under `npm run dev:mock`:
// the URL resolved against the profile's API URL, the request logged redacted (operation "api"),
// a refused (revoked) token renewed once before the answer.
import { describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/event', () => ({ emit: vi.fn(async () => {}) }));
vi.mock('@tauri-apps/api/mocks', () => ({ mockIPC: vi.fn() }));

import type { ApiResponse } from '../lib/bindings/ApiResponse';
import type { Exchange } from '../lib/bindings/Exchange';
import { MockBackend } from './backend';
import { demoData } from './demo';

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
