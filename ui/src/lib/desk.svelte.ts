// The app's data: profiles and token sets as the core reports them. Loaded once, then reloaded
// only when the core says something changed ("core-event"); nothing here polls.
//
// Arrays are `$state.raw` and replaced whole: a reload keeps the previous object for every
// token that did not change, so only rows whose token really changed update.

import * as api from './api';
import type { AppError } from './api';
import type { CoreEvent } from './bindings/CoreEvent';
import type { Origin } from './bindings/Origin';
import type { Profile } from './bindings/Profile';
import type { ProfileId } from './bindings/ProfileId';
import type { TokenSet } from './bindings/TokenSet';
import { untrack } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import { clock } from './clock.svelte';
import { onTick } from './countdowns.svelte';
import { type Health, HealthBoard } from './tokenState';
import { toasts } from './toast.svelte';

/** Keeps `prev`'s object wherever the new one has the same content (stable identity). */
export function reconcile<T>(prev: readonly T[], next: T[], key: (t: T) => string): T[] {
  if (prev.length === 0) return next;
  const old = new Map<string, { item: T; json: string }>();
  for (const p of prev) old.set(key(p), { item: p, json: JSON.stringify(p) });
  return next.map((n) => {
    const o = old.get(key(n));
    return o && o.json === JSON.stringify(n) ? o.item : n;
  });
}

export class Desk {
  profiles = $state.raw<Profile[]>([]);
  /** Where each workspace profile comes from (its folder and file); local profiles are absent. */
  origins = $state.raw<ReadonlyMap<ProfileId, Origin>>(new Map());
  #tokens = $state.raw<TokenSet[]>([]);
  loaded = $state(false);
  loadError = $state<AppError | null>(null);
  /** Bumped per profile when its history or exchange log grows, so open views reload. */
  historyRev = $state<Record<ProfileId, number>>({});
  /** Counts workspace file changes seen on disk (Settings → Workspaces reads them again). */
  workspacesRev = $state(0);
  /** What the steps of the sign-in (or token request) in progress reported, per profile. */
  progress = $state<Record<ProfileId, string[]>>({});
  exchangesRev = $state<Record<ProfileId, number>>({});
  /** The shell is creating the sandbox profiles in the background (a start with the sandbox). */
  sandboxPreparing = $state(false);

  profileById = $derived(new Map(this.profiles.map((p) => [p.id, p])));
  tokenByProfile = $derived(new Map(this.tokens.map((t) => [t.profile_id, t])));

  /** Token sets as the core last reported them; replaced whole, never mutated. */
  get tokens(): TokenSet[] {
    return this.#tokens;
  }
  set tokens(next: TokenSet[]) {
    this.#tokens = next;
    this.#syncHealth(untrack(() => clock.now));
  }

  #board = new HealthBoard();
  /**
   * Every token's health, one signal per profile: a row or sidebar entry is notified only when
   * its own token's health changes. Nothing here reads the clock in a reactive context; the tick
   * effect re-syncs only when the board says some token may have crossed a threshold.
   */
  #health = new SvelteMap<ProfileId, Health>();

  /** All healths (the dashboard's counts iterate it). */
  get healthMap(): ReadonlyMap<ProfileId, Health> {
    return this.#health;
  }

  #syncHealth(now: number): void {
    const next = this.#board.get(this.#tokens, now);
    for (const [id, h] of next) if (this.#health.get(id) !== h) this.#health.set(id, h);
    for (const id of [...this.#health.keys()]) if (!next.has(id)) this.#health.delete(id);
  }

  constructor() {
    onTick((now) => {
      if (this.#board.stale(now)) this.#syncHealth(now);
    });
  }

  /** A profile's token health; `none` without a token. */
  health(id: ProfileId): Health {
    return this.#health.get(id) ?? 'none';
  }

  #unlisten: (() => void) | null = null;
  #unlistenSandbox: (() => void) | null = null;
  #onNeedsLogin: ((id: ProfileId, message: string) => void) | null = null;

  /** Who to tell when a profile needs the user to sign in again (the app shows a toast). */
  onNeedsLogin(fn: (id: ProfileId, message: string) => void): void {
    this.#onNeedsLogin = fn;
  }
  #reloading = { profiles: null as Promise<void> | null, tokens: null as Promise<void> | null };
  #again = { profiles: false, tokens: false };

  /** Loads everything and starts listening to the core's events. */
  async start(): Promise<void> {
    if (!this.#unlisten) {
      try {
        const un = await api.onCoreEvent((e) => this.handle(e));
        this.#unlisten = un;
      } catch (e) {
        this.loadError = api.toAppError(e);
      }
    }
    if (!this.#unlistenSandbox) {
      this.#unlistenSandbox = await api
        .onSandboxChanged((s) => (this.sandboxPreparing = s.preparing))
        .catch(() => null);
    }
    await Promise.all([this.reloadProfiles(), this.reloadTokens(), this.#loadSandbox()]);
    this.loaded = true;
  }

  /** Whether the sandbox profiles are on their way (nothing to show when that cannot be told). */
  async #loadSandbox(): Promise<void> {
    try {
      this.sandboxPreparing = (await api.sandboxStatus()).preparing;
    } catch {
      this.sandboxPreparing = false;
    }
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = null;
    this.#unlistenSandbox?.();
    this.#unlistenSandbox = null;
  }

  handle(e: CoreEvent): void {
    switch (e.type) {
      case 'profiles_changed':
        void this.reloadProfiles();
        break;
      case 'token_changed':
      case 'token_removed':
        void this.reloadTokens();
        break;
      case 'history_appended':
        this.historyRev[e.profile_id] = (this.historyRev[e.profile_id] ?? 0) + 1;
        break;
      case 'exchanges_appended':
        this.exchangesRev[e.profile_id] = (this.exchangesRev[e.profile_id] ?? 0) + 1;
        break;
      case 'progress':
        // A step of a sign-in or token request went through (consent registered, checks passed).
        (this.progress[e.profile_id] ??= []).push(e.message);
        break;
      case 'workspaces_changed':
        this.workspacesRev++;
        if (e.removed.length > 0) {
          const names = e.removed.map((n) => `“${n}”`).join(', ');
          toasts.show(
            `${names} left the workspace (file removed): parked, not deleted; ${e.removed.length === 1 ? 'its' : 'their'} tokens and keychain entries are kept and come back with the file (Settings → Workspaces or \`tokendesk workspace prune\` deletes them)`,
            'info',
            8000,
          );
        }
        break;
      case 'needs_login':
        // The background refresher gave up: the token set now carries the reason.
        void this.reloadTokens();
        this.#onNeedsLogin?.(e.profile_id, e.message);
        break;
    }
  }

  /** Reloads profiles; a burst of events while one reload runs causes one more, not many. */
  reloadProfiles(): Promise<void> {
    return this.#coalesce('profiles', async () => {
      try {
        const [next, origins] = await Promise.all([
          api.listProfiles(),
          api.profileOrigins().catch(() => [] as Origin[]),
        ]);
        this.profiles = reconcile(this.profiles, next, (p) => p.id);
        this.origins = new Map((origins ?? []).map((o) => [o.profile_id, o]));
        this.loadError = null;
      } catch (e) {
        this.loadError = api.toAppError(e);
      }
    });
  }

  reloadTokens(): Promise<void> {
    return this.#coalesce('tokens', async () => {
      try {
        const next = await api.listTokens();
        this.tokens = reconcile(this.tokens, next, (t) => t.profile_id);
        this.loadError = null;
      } catch (e) {
        this.loadError = api.toAppError(e);
      }
    });
  }

  /** Puts a token set the core just returned in place without waiting for its event. */
  putToken(t: TokenSet): void {
    const i = this.tokens.findIndex((x) => x.profile_id === t.profile_id);
    this.tokens = i < 0 ? [...this.tokens, t] : this.tokens.map((x, j) => (j === i ? t : x));
  }

  putProfile(p: Profile): void {
    const i = this.profiles.findIndex((x) => x.id === p.id);
    this.profiles = i < 0 ? [...this.profiles, p] : this.profiles.map((x, j) => (j === i ? p : x));
  }

  dropProfile(id: ProfileId): void {
    this.profiles = this.profiles.filter((p) => p.id !== id);
    this.tokens = this.tokens.filter((t) => t.profile_id !== id);
  }

  dropToken(id: ProfileId): void {
    this.tokens = this.tokens.filter((t) => t.profile_id !== id);
  }

  #coalesce(which: 'profiles' | 'tokens', load: () => Promise<void>): Promise<void> {
    const running = this.#reloading[which];
    if (running) {
      this.#again[which] = true;
      return running;
    }
    const run = (async () => {
      do {
        this.#again[which] = false;
        await load();
      } while (this.#again[which]);
      this.#reloading[which] = null;
    })();
    this.#reloading[which] = run;
    return run;
  }
}

export const desk = new Desk();
