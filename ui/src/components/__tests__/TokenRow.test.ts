// The token card counts down from the ONE shared clock: advancing fake time by a second moves
// every countdown by a second, and there is a single timer however many cards there are.
import { render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { clock } from '../../lib/clock.svelte';
import { desk } from '../../lib/desk.svelte';
import { makeProfile, makeToken, REF } from '../../test/fixtures';
import Dashboard from '../Dashboard.svelte';
import TokenRow from '../TokenRow.svelte';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  clock.stop();
  clock.resume(); // now = fake Date.now(), not frozen
  clock.start(); // the one timer, under fake timers
  // The clock wakes 2 ms after each wall-clock second; keep the test's ticks on that phase.
  vi.advanceTimersByTime(2);
});

afterEach(() => {
  clock.stop();
  vi.useRealTimers();
});

function tick(ms: number) {
  vi.advanceTimersByTime(ms);
  flushSync();
}

describe('token card', () => {
  it('counts the access and refresh token down as the shared clock advances', () => {
    const token = makeToken({
      obtained_at: T0 - 60_000,
      access_expires_at: T0 + 65_000, // 1:05 left
      refresh: REF,
      refresh_expires_at: T0 + 3_600_000 + 2_000, // 1:00:02 left
    });
    desk.tokens = [token];
    render(TokenRow, { token, profile: makeProfile() });
    const card = screen.getByTestId('token-card-Profile one');
    const access = () => card.querySelector('[data-testid="countdown-access"]')!.textContent;
    const refresh = () => card.querySelector('[data-testid="countdown-refresh"]')!.textContent;
    expect(access()).toBe('1:05');
    expect(refresh()).toBe('1:00:02');

    tick(1000);
    expect(access()).toBe('1:04');
    expect(refresh()).toBe('1:00:01');

    tick(4000);
    expect(access()).toBe('1:00');
    expect(refresh()).toBe('59:57');

    tick(60_000);
    expect(access()).toBe('expired');
    expect(card.dataset.state).toBe('expired');
  });

  it('colours the bar by the share of the lifetime left', () => {
    const token = makeToken({ obtained_at: T0, access_expires_at: T0 + 100_000 });
    desk.tokens = [token];
    render(TokenRow, { token, profile: makeProfile() });
    const cell = () => screen.getByTestId('countdown-access').closest('[data-level]') as HTMLElement;
    const fill = () => cell().querySelector<HTMLElement>('[data-cd-fill]')!;
    expect(cell().dataset.level).toBe('ok');
    expect(fill().style.transform).toBe('scaleX(1)');
    tick(50_000);
    expect(cell().dataset.level).toBe('warn');
    expect(fill().style.transform).toBe('scaleX(0.5)');
    tick(30_000);
    expect(cell().dataset.level).toBe('crit');
    tick(20_000);
    expect(cell().dataset.level).toBe('expired');
    expect(fill().style.transform).toBe('scaleX(0)');
  });

  it('shows the needs-login message and no refresh countdown without a refresh token', () => {
    const token = makeToken({ grant: 'authorization_code', needs_login: 'The refresh token was rejected: sign in again.' });
    desk.tokens = [token];
    render(TokenRow, { token, profile: makeProfile({ grant: 'authorization_code' }) });
    expect(screen.getByTestId('needs-login').textContent).toContain('sign in again');
    expect(screen.getByTestId('countdown-refresh').textContent).toBe('no refresh token');
  });

  it('drives every card from one timer', () => {
    const tokens = [1, 2, 3].map((i) =>
      makeToken({ profile_id: `p${i}`, obtained_at: T0, access_expires_at: T0 + i * 60_000 }),
    );
    desk.profiles = tokens.map((t, i) => makeProfile({ id: t.profile_id, name: `Profile ${i + 1}` }));
    desk.tokens = tokens;
    desk.loaded = true;
    render(Dashboard);
    const texts = () => screen.getAllByTestId('countdown-access').map((e) => e.textContent);
    expect(texts()).toEqual(['1:00', '2:00', '3:00']);
    expect(vi.getTimerCount()).toBe(1);
    tick(1000);
    expect(texts()).toEqual(['0:59', '1:59', '2:59']);
    expect(vi.getTimerCount()).toBe(1);
    tick(59_000);
    expect(texts()).toEqual(['expired', '1:00', '2:00']);
  });
});
