// The app's data follows the core's events and never polls.
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { CoreEvent } from '../bindings/CoreEvent';
import type { TokenSet } from '../bindings/TokenSet';
import { clock } from '../clock.svelte';
import { Desk, TOKEN_BATCH_MS, patch, reconcile } from '../desk.svelte';
import { makeProfile, makeToken, settle } from '../../test/fixtures';

const invokeMock = vi.mocked(invoke);
let emit: (e: CoreEvent) => void = () => {};
let emitSandbox: (s: { preparing: boolean }) => void = () => {};
let preparing = false;
/** The store's token sets, by profile, as the mocked core answers them. */
let stored: Map<string, TokenSet>;
/** When set, `tokens_of` waits for this before answering (a read in flight). */
let gate: Promise<void> | null;

const live = (id: string, over: Partial<TokenSet> = {}) =>
  makeToken({ profile_id: id, obtained_at: Date.now(), access_expires_at: Date.now() + 60_000, ...over });

beforeEach(() => {
  vi.useFakeTimers();
  stored = new Map([['p1', live('p1')]]);
  gate = null;
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
    if (cmd === 'list_profiles') return [makeProfile()];
    if (cmd === 'list_tokens') return [...stored.values()].map((t) => structuredClone(t));
    if (cmd === 'tokens_of') {
      const ids = (args as { ids: string[] }).ids;
      if (gate) await gate;
      return ids.flatMap((id) => (stored.has(id) ? [structuredClone(stored.get(id)!)] : []));
    }
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

afterEach(() => {
  clock.resume();
  vi.useRealTimers();
});

const calls = (cmd: string) => invokeMock.mock.calls.filter(([c]) => c === cmd).length;
/** The ids of every `tokens_of` call, sorted per call. */
const batches = () =>
  invokeMock.mock.calls.filter(([c]) => c === 'tokens_of').map(([, a]) => [...(a as { ids: string[] }).ids].sort());
/** Lets a batch gather, be read and be applied. */
const batch = () => vi.advanceTimersByTimeAsync(TOKEN_BATCH_MS);

async function started(ids: string[]): Promise<Desk> {
  // Health is told by the app's clock: the fake time of this test, not what an earlier one left.
  clock.set(Date.now());
  stored = new Map(ids.map((id) => [id, live(id)]));
  const desk = new Desk();
  await desk.start();
  invokeMock.mockClear();
  return desk;
}

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

    stored.set('p1', live('p1', { refresh_count: 1 }));
    emit({ type: 'token_changed', profile_id: 'p1' });
    await batch();
    expect(batches()).toEqual([['p1']]); // that token alone, not every token set
    expect(calls('list_tokens')).toBe(1);
    expect(calls('list_profiles')).toBe(1);
    expect(desk.tokens[0].refresh_count).toBe(1);

    emit({ type: 'profiles_changed' });
    await settle();
    expect(calls('list_profiles')).toBe(2);

    emit({ type: 'history_appended', profile_id: 'p1' });
    emit({ type: 'exchanges_appended', profile_id: 'p1' });
    expect(desk.historyRev.p1).toBe(1);
    expect(desk.exchangesRev.p1).toBe(1);
  });

  it('reads the tokens of a burst of events for many profiles in one batch, each once', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const desk = await started(ids);
    for (let round = 0; round < 3; round++)
      for (const id of ids.slice(10)) {
        stored.set(id, live(id, { refresh_count: round }));
        emit({ type: 'token_changed', profile_id: id });
      }
    emit({ type: 'needs_login', profile_id: 'p3', message: 'Sign in again.' });
    await batch();
    expect(batches()).toEqual([[...ids.slice(10), 'p3'].sort()]);
    expect(calls('list_tokens')).toBe(0);
    expect(desk.tokens.map((t) => t.profile_id)).toEqual(ids);
    expect(desk.tokens.filter((t) => t.refresh_count === 2).length).toBe(40);
  });

  it('keeps one read in flight; events meanwhile go in the next batch', async () => {
    const desk = await started(['p1', 'p2', 'p3']);
    let open = () => {};
    gate = new Promise((ok) => (open = ok));
    emit({ type: 'token_changed', profile_id: 'p1' });
    await batch();
    expect(batches()).toEqual([['p1']]);
    stored.set('p2', live('p2', { refresh_count: 7 }));
    emit({ type: 'token_changed', profile_id: 'p2' });
    emit({ type: 'token_changed', profile_id: 'p3' });
    await batch();
    await batch();
    expect(batches()).toEqual([['p1']]); // still waiting for the first
    gate = null;
    open();
    await batch();
    await batch();
    expect(batches()).toEqual([['p1'], ['p2', 'p3']]);
    expect(desk.tokenByProfile.get('p2')?.refresh_count).toBe(7);
  });

  it('updates the changed tokens in place, keeps the others as they were, drops a token gone', async () => {
    const desk = await started(['a', 'b', 'c', 'd']);
    const before = desk.tokens;
    stored.set('b', live('b', { refresh_count: 2 }));
    stored.delete('c'); // forgotten before the read: absent from the answer
    stored.set('e', live('e'));
    for (const id of ['b', 'c', 'd', 'e']) emit({ type: 'token_changed', profile_id: id });
    await batch();
    expect(desk.tokens.map((t) => t.profile_id)).toEqual(['a', 'b', 'd', 'e']);
    expect(desk.tokens[0]).toBe(before[0]);
    expect(desk.tokens[1]).not.toBe(before[1]);
    expect(desk.tokens[1].refresh_count).toBe(2);
    expect(desk.tokens[2]).toBe(before[3]); // read again, same content: same object
    expect(desk.health('c')).toBe('none');
    expect(desk.health('e')).toBe('valid');

    // A batch that changes nothing leaves the list itself alone.
    const now = desk.tokens;
    emit({ type: 'token_changed', profile_id: 'a' });
    await batch();
    expect(desk.tokens).toBe(now);
  });

  it("a tick past a token's threshold changes its health and the counts; a token changed between ticks counts its own", async () => {
    const desk = await started(['a', 'b', 'c']);
    const t0 = clock.now;
    expect(desk.healthCounts).toMatchObject({ valid: 3, expiring: 0, expired: 0 });
    // Between ticks: b renewed with ten minutes, c with 20 s (expiring from 16 s), a left as is.
    stored.set('b', live('b', { access_expires_at: t0 + 600_000 }));
    stored.set('c', live('c', { access_expires_at: t0 + 20_000 }));
    emit({ type: 'token_changed', profile_id: 'b' });
    emit({ type: 'token_changed', profile_id: 'c' });
    await batch();
    const tickTo = (ms: number) => {
      clock.set(t0 + ms);
      flushSync();
    };
    tickTo(17_000);
    expect(['a', 'b', 'c'].map((id) => desk.health(id))).toEqual(['valid', 'valid', 'expiring']);
    tickTo(49_000); // a: a fifth of its minute left
    expect(['a', 'b', 'c'].map((id) => desk.health(id))).toEqual(['expiring', 'valid', 'expired']);
    expect(desk.healthCounts).toMatchObject({ valid: 1, expiring: 1, expired: 1 });
    emit({ type: 'token_removed', profile_id: 'c' });
    tickTo(61_000);
    expect(['a', 'b', 'c'].map((id) => desk.health(id))).toEqual(['expired', 'valid', 'none']);
    expect(desk.healthCounts).toMatchObject({ valid: 1, expiring: 0, expired: 1 });
  });

  it('drops a removed token without reading anything, and a read in flight does not bring it back', async () => {
    const desk = await started(['p1', 'p2']);
    emit({ type: 'token_removed', profile_id: 'p2' });
    expect(desk.tokens.map((t) => t.profile_id)).toEqual(['p1']);
    await batch();
    expect(invokeMock).not.toHaveBeenCalled();

    let open = () => {};
    gate = new Promise((ok) => (open = ok));
    emit({ type: 'token_changed', profile_id: 'p1' });
    await batch(); // the read of p1 is in flight, with p1 still stored
    emit({ type: 'token_removed', profile_id: 'p1' });
    stored.delete('p1');
    gate = null;
    open();
    await batch();
    expect(desk.tokens).toEqual([]);
    expect(batches()).toEqual([['p1']]);
  });

  it('after a failed read, shows the error and reads every token set at the next event', async () => {
    const desk = await started(['p1', 'p2']);
    invokeMock.mockImplementationOnce(async () => {
      throw { code: 'storage', message: 'The database is locked.' };
    });
    emit({ type: 'token_changed', profile_id: 'p1' });
    await batch();
    expect(desk.loadError?.code).toBe('storage');
    await batch();
    expect(invokeMock).toHaveBeenCalledTimes(1); // no retry loop

    stored.set('p1', live('p1', { refresh_count: 3 }));
    emit({ type: 'token_changed', profile_id: 'p2' });
    await batch();
    expect(calls('list_tokens')).toBe(1);
    expect(calls('tokens_of')).toBe(1);
    expect(desk.loadError).toBeNull();
    expect(desk.tokenByProfile.get('p1')?.refresh_count).toBe(3);
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

  it('patches a list in one new array, keeping order and unchanged objects', () => {
    const a = makeToken({ profile_id: 'a' });
    const b = makeToken({ profile_id: 'b' });
    const c = makeToken({ profile_id: 'c' });
    const x = makeToken({ profile_id: 'x' });
    const key = (t: TokenSet) => t.profile_id;
    const p = patch([a, b, c], new Set(['a', 'b', 'x', 'y']), [{ ...a }, x], key);
    expect(p.next.map(key)).toEqual(['a', 'c', 'x']);
    expect(p.next[0]).toBe(a);
    expect(p.next[1]).toBe(c);
    expect(p.changed).toEqual([x]);
    expect(p.removed).toEqual(['b']);
    const same = [a, b];
    expect(patch(same, new Set(['a', 'z']), [{ ...a }], key)).toEqual({ next: same, changed: [], removed: [] });
    expect(patch(same, new Set(['a', 'z']), [{ ...a }], key).next).toBe(same);
    // A token not asked for is not taken, even when the answer has it.
    expect(patch(same, new Set(['a']), [{ ...a }, { ...b, refresh_count: 9 }], key).next).toBe(same);
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
