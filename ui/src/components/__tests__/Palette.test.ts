// The command palette: Ctrl+K opens it, a fuzzy query finds a profile or an action, Enter runs
// it — copying goes through the shell's copy_token (the token never enters the webview).
import { fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { desk } from '../../lib/desk.svelte';
import { nav } from '../../lib/nav.svelte';
import { filterItems, fuzzyScore, paletteItems } from '../../lib/palette';
import { toasts } from '../../lib/toast.svelte';
import { makeProfile, makeToken, settle } from '../../test/fixtures';
import Palette from '../Palette.svelte';

const corp = makeProfile({ id: 'p-corp', name: 'Corp sign-in', grant: 'authorization_code' });
const gateway = makeProfile({ id: 'p-gw', name: 'Bank gateway', environment: 'test' });

beforeEach(() => {
  desk.profiles = [corp, gateway];
  desk.tokens = [makeToken({ profile_id: 'p-gw' })];
  nav.go({ kind: 'dashboard' });
  toasts.items = [];
});

afterEach(() => {
  vi.mocked(invoke).mockReset();
});

function ctrl(key: string) {
  fireEvent.keyDown(window, { key, ctrlKey: true });
  flushSync();
}

async function typeQuery(q: string) {
  const input = screen.getByTestId('palette-input') as HTMLInputElement;
  await fireEvent.input(input, { target: { value: q } });
  flushSync();
  return input;
}

function shown(): string[] {
  return screen.queryAllByRole('option').map((o) => o.querySelector('.label')!.textContent!.trim());
}

describe('command palette', () => {
  it('opens with Ctrl+K, focused, listing profiles and actions; Escape closes it', async () => {
    render(Palette);
    expect(screen.queryByTestId('palette')).toBeNull();
    ctrl('k');
    const input = screen.getByTestId('palette-input');
    expect(document.activeElement).toBe(input);
    expect(shown()).toEqual([
      'Corp sign-in',
      'Copy token: Corp sign-in',
      'Sign in: Corp sign-in',
      'Bank gateway',
      'Copy token: Bank gateway',
      'Get token: Bank gateway',
      'Refresh: Bank gateway',
      'Dashboard',
      'New profile',
      'Settings',
      'Close window',
    ]);
    expect(screen.getByTestId('palette-shortcuts').textContent).toContain('Ctrl+K');
    await fireEvent.keyDown(input, { key: 'Escape' });
    flushSync();
    expect(screen.queryByTestId('palette')).toBeNull();
  });

  it('jumps to a profile by a fuzzy query', async () => {
    render(Palette);
    ctrl('k');
    const input = await typeQuery('bnk');
    expect(shown()[0]).toBe('Bank gateway');
    await fireEvent.keyDown(input, { key: 'Enter' });
    flushSync();
    expect(nav.view).toEqual({ kind: 'profile', id: 'p-gw', tab: 'token' });
    expect(screen.queryByTestId('palette')).toBeNull();
  });

  it('copies a token in Rust and says when the clipboard clears', async () => {
    vi.mocked(invoke).mockResolvedValue({ clear_after_secs: 30 });
    render(Palette);
    ctrl('k');
    const input = await typeQuery('copy gate');
    expect(shown()[0]).toBe('Copy token: Bank gateway');
    await fireEvent.keyDown(input, { key: 'Enter' });
    await settle();
    expect(invoke).toHaveBeenCalledWith('copy_token', { id: 'p-gw', format: 'raw' });
    expect(toasts.items.at(-1)?.message).toBe('Copied the token of Bank gateway — clipboard clears in 30 s');
  });

  it('moves with the arrow keys and refreshes the chosen profile', async () => {
    vi.mocked(invoke).mockResolvedValue(makeToken({ profile_id: 'p-gw', refresh_count: 1 }));
    render(Palette);
    ctrl('k');
    const input = await typeQuery('gateway');
    const labels = shown();
    const target = labels.indexOf('Refresh: Bank gateway');
    expect(target).toBeGreaterThan(0);
    for (let i = 0; i < target; i++) await fireEvent.keyDown(input, { key: 'ArrowDown' });
    flushSync();
    expect(screen.getAllByRole('option')[target].getAttribute('aria-selected')).toBe('true');
    await fireEvent.keyDown(input, { key: 'Enter' });
    await settle();
    expect(invoke).toHaveBeenCalledWith('refresh_token', { id: 'p-gw' });
    expect(toasts.items.at(-1)?.message).toBe('Refreshed Bank gateway');
  });

  it('shows the error of an action that fails, and nothing matches nonsense', async () => {
    vi.mocked(invoke).mockRejectedValue({ code: 'needs_login', message: 'Sign in to "Corp sign-in" first.' });
    render(Palette);
    ctrl('k');
    let input = await typeQuery('copy corp');
    await fireEvent.keyDown(input, { key: 'Enter' });
    await settle();
    expect(toasts.items.at(-1)).toMatchObject({ kind: 'error', message: 'Sign in to "Corp sign-in" first.' });
    ctrl('k');
    input = await typeQuery('zzqx');
    expect(shown()).toEqual([]);
    expect(screen.getByTestId('palette-empty')).toBeTruthy();
  });

  it('takes the other shortcuts when closed: settings, new profile, dashboard, close window', async () => {
    vi.mocked(invoke).mockResolvedValue(null);
    render(Palette);
    ctrl(',');
    expect(nav.view.kind).toBe('settings');
    ctrl('n');
    expect(nav.view.kind).toBe('new-profile');
    ctrl('1');
    expect(nav.view.kind).toBe('dashboard');
    ctrl('w');
    await settle();
    expect(invoke).toHaveBeenCalledWith('close_window', undefined);
  });
});

describe('fuzzy matching', () => {
  it('needs every character in order and prefers word starts and runs', () => {
    expect(fuzzyScore('gw', 'Bank gateway')).not.toBeNull();
    expect(fuzzyScore('wg', 'gw')).toBeNull();
    expect(fuzzyScore('', 'x')).toBe(0);
    expect(fuzzyScore('gate', 'Bank gateway')!).toBeGreaterThan(fuzzyScore('gate', 'a g a t e')!);
    const items = paletteItems([corp, gateway], () => false);
    expect(filterItems(items, 'sign corp')[0].label).toBe('Sign in: Corp sign-in');
    expect(filterItems(items, 'settings')[0].label).toBe('Settings');
    expect(filterItems(items, '').length).toBe(items.length);
    const twins = [makeProfile({ id: 'a', name: 'Sandbox gateway · client credentials' }), makeProfile({ id: 'b', name: 'Sandbox · client credentials' })];
    expect(filterItems(paletteItems(twins, () => true), 'copy sandbox client cred')[0].label).toBe(
      'Copy token: Sandbox · client credentials',
    );
  });
});
