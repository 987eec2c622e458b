// The sandbox offer: while the shell creates the sandbox profiles in the background (a start with
// the sandbox), it says so instead of offering a button that would add them a second time.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { desk } from '../../lib/desk.svelte';
import SandboxOffer from '../SandboxOffer.svelte';

afterEach(() => {
  vi.mocked(invoke).mockReset();
  desk.sandboxPreparing = false;
});

describe('sandbox offer', () => {
  it('shows the setup in progress, then the offer once the shell is done', async () => {
    vi.mocked(invoke).mockImplementation(async () => []);
    desk.sandboxPreparing = true;
    render(SandboxOffer, { testid: 'offer' });
    const waiting = screen.getByTestId('offer-preparing') as HTMLButtonElement;
    expect(waiting.disabled).toBe(true);
    expect(waiting.textContent).toContain('Setting up the sandbox');
    expect(screen.queryByTestId('offer')).toBeNull();
    await fireEvent.click(waiting);
    expect(invoke).not.toHaveBeenCalled();

    desk.sandboxPreparing = false;
    await Promise.resolve();
    expect(screen.queryByTestId('offer-preparing')).toBeNull();
    expect((screen.getByTestId('offer') as HTMLButtonElement).disabled).toBe(false);
  });
});
