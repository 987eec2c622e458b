// The app's data follows the core's events and never polls.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { CoreEvent } from '../bindings/CoreEvent';
import { Desk, reconcile } from '../desk.svelte';
import { makeProfile, makeToken, settle } from '../../test/fixtures';

const invokeMock = vi.mocked(invoke);
let emit: (e: CoreEvent) => void = () => {};
let emitSandbox: (s: { preparing: boolean }) => void = () => {};
let preparing = false;

beforeEach(() => {
  vi.useFakeTimers();
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string) => {
    if (cmd === 'list_profiles') return [makeProfile()];
    if (cmd === 'list_tokens') return [makeToken({ obtained_at: Date.now(), access_expires_at: Date.now() + 60_000 })];
    if (cmd === 'sandbox_status') return { running: false, standard_issuer: null, gateway_issuer: null, bank_issuer: null, preparing };
    throw { code: 'internal', message: cmd };
  });
  preparing = false;
  vi.mocked(listen).mockImplementation(async (name, handler) => {
    if (name === 'sandbox-changed')
      emitSandbox = (payload) => (handler as (e: { payload: { preparing: boolean } }) => void)({ payload });
    else emit = (payload) => (handler as (e: { payload: CoreEvent }) => void)({ payload });
    return () => {};
  });
});

afterEach(() => vi.useRealTimers());

const calls = (cmd: string) => invokeMock.mock.calls.filter(([c]) => c === cmd).length;

describe('desk', () => {
  it('knows while the shell sets up the sandbox profiles, until it says it is done', async () => {
    preparing = true;
    const desk = new Desk();
    await desk.start();
    expect(desk.sandboxPreparing).toBe(true);
    emitSandbox({ preparing: false });
    expect(desk.sandboxPreparing).toBe(false);

    preparing = false;
    const plain = new Desk();
    await plain.start();
    expect(plain.sandboxPreparing).toBe(false);
  });

  it('loads once, reloads on events, and does not poll', async () => {
    const desk = new Desk();
    await desk.start();
    expect(listen).toHaveBeenCalledWith('core-event', expect.any(Function));
    expect(calls('list_profiles')).toBe(1);
    expect(calls('list_tokens')).toBe(1);
    expect(desk.health('p1')).toBe('valid');

    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(calls('list_tokens')).toBe(1); // ten minutes, no event: no request

    emit({ type: 'token_changed', profile_id: 'p1' });
    await settle();
    expect(calls('list_tokens')).toBe(2);
    expect(calls('list_profiles')).toBe(1);

    emit({ type: 'profiles_changed' });
    await settle();
    expect(calls('list_profiles')).toBe(2);

    emit({ type: 'history_appended', profile_id: 'p1' });
    emit({ type: 'exchanges_appended', profile_id: 'p1' });
    expect(desk.historyRev.p1).toBe(1);
    expect(desk.exchangesRev.p1).toBe(1);
  });

  it('coalesces a burst of events into one more reload', async () => {
    const desk = new Desk();
    await desk.start();
    for (let i = 0; i < 5; i++) emit({ type: 'token_changed', profile_id: 'p1' });
    await settle();
    await settle();
    expect(calls('list_tokens')).toBe(3); // the first load, the one running, one more
  });

  it('shows a failed load in place', async () => {
    invokeMock.mockImplementation(async () => {
      throw { code: 'storage', message: 'The database is locked.' };
    });
    const desk = new Desk();
    await desk.start();
    expect(desk.loadError).toEqual({ code: 'storage', message: 'The database is locked.', fields: [] });
    expect(desk.loaded).toBe(true);
  });

  it('keeps unchanged objects on reload so unchanged rows do not update', () => {
    const a = makeToken({ profile_id: 'a' });
    const b = makeToken({ profile_id: 'b' });
    const next = reconcile([a, b], [{ ...a }, { ...b, refresh_count: 4 }], (t) => t.profile_id);
    expect(next[0]).toBe(a);
    expect(next[1]).not.toBe(b);
    expect(next[1].refresh_count).toBe(4);
  });
});
