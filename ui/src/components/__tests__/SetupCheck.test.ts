// "Check setup": runs the core's check, shows the rows by layer with their status, opens the
// failures and warnings with their fix, and lists the exchanges a check made.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import type { CheckRow } from '../../lib/bindings/CheckRow';
import type { SetupReport } from '../../lib/bindings/SetupReport';
import * as api from '../../lib/api';
import SetupCheck from '../SetupCheck.svelte';

const run = () => api.checkSetup('p1');

function row(over: Partial<CheckRow>): CheckRow {
  return {
    id: 'x',
    layer: 'provider',
    title: 'X',
    status: 'pass',
    seen: 'fine',
    fix: null,
    exchanges: [],
    duration_ms: 3,
    ...over,
  };
}

const report: SetupReport = {
  profile_name: 'bank',
  checked_at: 1000,
  duration_ms: 87,
  checks: [
    row({ id: 'network:op:443', layer: 'network', title: 'Network: op:443', seen: 'TLS: valid 80 more days' }),
    row({ id: 'provider:clock', title: 'Clock', status: 'warn', seen: 'This machine is 45 s ahead.', fix: 'Turn on network time.' }),
    row({
      id: 'client:authentication',
      layer: 'client',
      title: 'Client authentication',
      status: 'fail',
      seen: 'invalid_client: client authentication failed',
      fix: 'client_secret_post authenticates: switch to it.',
      exchanges: [
        {
          id: 0,
          profile_id: 'p1',
          operation: 'setup-check:client-authentication',
          at: 1000,
          method: 'POST',
          url: 'https://op.example/token',
          status: 401,
          duration_ms: 5,
          request_headers: [],
          request_body: 'grant_type=authorization_code&client_secret=<redacted>',
          response_headers: [],
          response_body: '{"error":"invalid_client"}',
          error: null,
        },
      ],
    }),
    row({ id: 'tokens:state', layer: 'tokens', title: 'Tokens', status: 'skipped', seen: 'No token yet.' }),
  ],
};

afterEach(() => vi.mocked(invoke).mockReset());

describe('SetupCheck', () => {
  it('runs the check and shows every row by layer, problems opened with their fix', async () => {
    vi.mocked(invoke).mockResolvedValue(structuredClone(report));
    render(SetupCheck, { run });
    await fireEvent.click(screen.getByTestId('setup-check-run'));
    await waitFor(() => expect(screen.getByTestId('setup-check-summary')).toBeTruthy());
    expect(invoke).toHaveBeenCalledWith('check_setup', { id: 'p1' });
    expect(screen.getByTestId('setup-check-summary').textContent).toMatch(/1 passed.*1 warning.*1 failed.*1 skipped/s);
    for (const name of ['Network', 'Provider', 'Client', 'Tokens']) {
      expect(screen.getByRole('region', { name })).toBeTruthy();
    }
    const fail = screen.getByTestId('check-client:authentication');
    expect(fail.dataset.status).toBe('fail');
    expect(within(fail).getByText(/switch to it/)).toBeTruthy();
    // The exchange it made, redacted as recorded.
    expect(within(fail).getByText(/POST https:\/\/op.example\/token → 401/)).toBeTruthy();
    expect(fail.textContent).not.toContain('secret=s3cr3t');
    const warn = screen.getByTestId('check-provider:clock');
    expect(within(warn).getByText(/Turn on network time/)).toBeTruthy();
    // A passing row stays closed until asked.
    const pass = screen.getByTestId('check-network:op:443');
    const head = within(pass).getByRole('button');
    expect(head.getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(head);
    expect(head.getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByTestId('setup-check-run').textContent).toContain('Check again');
  });

  it('shows the error when the check cannot run', async () => {
    vi.mocked(invoke).mockRejectedValue({ code: 'not_found', message: 'No profile "p1".', field_errors: [], checks: [] });
    render(SetupCheck, { run });
    await fireEvent.click(screen.getByTestId('setup-check-run'));
    await waitFor(() => expect(screen.getByText(/No profile/)).toBeTruthy());
    expect(screen.queryByTestId('setup-check-summary')).toBeNull();
  });
});
