// Settings: closing to the tray, start at login and the warning window are saved with the
// clipboard setting; the shortcuts are listed.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { settle } from '../../test/fixtures';
import Settings from '../Settings.svelte';

afterEach(() => vi.mocked(invoke).mockReset());

function backend(saved: unknown[]) {
  vi.mocked(invoke).mockImplementation(async (cmd: string, args?: unknown) => {
    if (cmd === 'get_settings') return { clipboard_clear_secs: 30, close_to_tray: true, start_at_login: false, expiry_warning_hours: 24 };
    if (cmd === 'sandbox_status') return { running: false, standard_issuer: null, gateway_issuer: null, bank_issuer: null, preparing: false };
    if (cmd === 'set_settings') saved.push((args as { settings: unknown }).settings);
    return null;
  });
}

describe('settings', () => {
  it('saves the desktop settings and lists the shortcuts', async () => {
    const saved: unknown[] = [];
    backend(saved);
    render(Settings);
    await settle();
    const tray = screen.getByTestId('field-close_to_tray') as HTMLInputElement;
    expect(tray.checked).toBe(true);
    await fireEvent.click(tray);
    await fireEvent.click(screen.getByTestId('field-start_at_login'));
    await fireEvent.input(screen.getByTestId('field-expiry_warning_hours'), { target: { value: '48' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await settle();
    expect(saved).toEqual([{ clipboard_clear_secs: 30, close_to_tray: false, start_at_login: true, expiry_warning_hours: 48 }]);
    expect(screen.getByTestId('shortcuts').textContent).toContain('Ctrl+K');
  });

  it('says what is wrong with the warning window before saving', async () => {
    const saved: unknown[] = [];
    backend(saved);
    render(Settings);
    await settle();
    await fireEvent.input(screen.getByTestId('field-expiry_warning_hours'), { target: { value: 'a day' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await settle();
    expect(saved).toEqual([]);
    expect(screen.getByTestId('field-error-expiry_warning_hours').textContent).toContain('whole number of hours');
  });
});
