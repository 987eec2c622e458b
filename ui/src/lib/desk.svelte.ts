// The app's data: profiles and token sets as the core reports them. Loaded once, then updated
// only when the core says something changed ("core-event"); nothing here polls.
//
// Arrays are `$state.raw` and replaced whole: an update keeps the previous object for every
// token that did not change, so only rows whose token really changed update. A token event
// reads only the tokens it names (batched: with 10,000 profiles the refresher renews hundreds
// a second), never every token set again.

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
import { type Health, HealthBoard, type HealthCounts, noHealthCounts } from './tokenState';
import { toasts } from './toast.svelte';

/**
 * How long token events are gathered before their tokens are read: one read and one update of
 * the list for all the events of this window (countdowns show seconds; a user's own action puts
 * its token in place at once, see `putToken`).
 */
export const TOKEN_BATCH_MS = 100;

const sameContent = <T>(a: T, b: T): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

/** Keeps `prev`'s object wherever the new one has the same content (stable identity). */
export function reconcile<T>(prev: readonly T[], next: T[], key: (t: T) => string): T[] {
  if (prev.length === 0) return next;
  const old = new Map(prev.map((p) => [key(p), p]));
  return next.map((n) => {
    const o = old.get(key(n));
    return o !== undefined && sameContent(o, n) ? o : n;
  });
}

/** What `patch` did: the new list (`prev` itself when nothing changed), what is new or replaced
 * in it, and the keys that left it. */
export interface Patched<T> {
  next: readonly T[];
  changed: T[];
  removed: string[];
}

/**
 * `prev` with the items of `ids` as `got` has them: replaced in place, dropped when `got` has
 * none, appended when new. Every other item, and every item whose content did not change, keeps
 * its object.
 */
export function patch<T>(
  prev: readonly T[],
  ids: ReadonlySet<string>,
  got: readonly T[],
  key: (t: T) => string,
): Patched<T> {
  const fresh = new Map(got.map((g) => [key(g), g]));
  const changed: T[] = [];
  const removed: string[] = [];
  const next: T[] = [];
  for (const p of prev) {
    const k = key(p);
    if (!ids.has(k)) {
      next.push(p);
      continue;
    }
    const n = fresh.get(k);
    fresh.delete(k);
    if (n === undefined) removed.push(k);
    else if (sameContent(p, n)) next.push(p);
    else {
      next.push(n);
      changed.push(n);
    }
  }
  for (const [k, n] of fresh) {
    if (!ids.has(k)) continue;
    next.push(n);
    changed.push(n);
  }
  return { next: changed.length + removed.length > 0 ? next : prev, changed, removed };
}

const byProfile = (t: TokenSet) => t.profile_id;
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

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
    this.#countsAfter(this.#board.sync(next, untrack(() => clock.now)));
  }

  /**
   * Every token's health, one signal per profile: a row or sidebar entry is notified only when
   * its own token's health changes. Nothing here reads the clock in a reactive context; the tick
   * works out only the tokens whose health can change at that tick (the board's queue).
   */
  #health = new SvelteMap<ProfileId, Health>();
  #board = new HealthBoard((id, h) => (h === undefined ? this.#health.delete(id) : this.#health.set(id, h)));

  /** How many tokens are in each health (the dashboard's summary); replaced when one changes. */
  healthCounts = $state.raw<Readonly<HealthCounts>>(noHealthCounts());

  #countsAfter(changed: boolean): void {
    if (changed) this.healthCounts = this.#board.counts();
  }

  /** Puts a patched token list in place, working out the health of what changed only. */
  #patchTokens({ next, changed, removed }: Patched<TokenSet>): void {
    if (next === this.#tokens) return;
    this.#tokens = next as TokenSet[];
    this.#countsAfter(this.#board.update(changed, removed, untrack(() => clock.now)));
  }

  constructor() {
    onTick((now) => {
      if (this.#board.stale(now)) this.#countsAfter(this.#board.advance(now));
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
  #reloadingProfiles: Promise<void> | null = null;
  #profilesAgain = false;

  /** Token reads wanted: all of them, or those of some profiles (the next batch). */
  #tokenWork = { all: false, ids: new Set<ProfileId>() };
  /** The one token read in flight (and those queued behind it), if any. */
  #tokenReads: Promise<void> | null = null;
  /** A token read failed: the next one reads every token set. */
  #tokensStale = false;
  /** Token sets removed while a read was in flight: its answer must not bring them back. */
  #removedMeanwhile = new Set<ProfileId>();

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
        void this.#tokenChanged(e.profile_id);
        break;
      case 'token_removed':
        this.#tokenWork.ids.delete(e.profile_id);
        if (this.#tokenReads) this.#removedMeanwhile.add(e.profile_id);
        this.dropToken(e.profile_id);
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
        void this.#tokenChanged(e.profile_id);
        this.#onNeedsLogin?.(e.profile_id, e.message);
        break;
    }
  }

  /** Reloads profiles; a burst of events while one reload runs causes one more, not many. */
  reloadProfiles(): Promise<void> {
    if (this.#reloadingProfiles) {
      this.#profilesAgain = true;
      return this.#reloadingProfiles;
    }
    const run = (async () => {
      do {
        this.#profilesAgain = false;
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
      } while (this.#profilesAgain);
      this.#reloadingProfiles = null;
    })();
    this.#reloadingProfiles = run;
    return run;
  }

  /** Reads every token set again (at start, and after a read that failed). */
  reloadTokens(): Promise<void> {
    this.#tokenWork.all = true;
    return this.#readTokens();
  }

  /** A profile's token set changed: read it with the others of this batch. */
  #tokenChanged(id: ProfileId): Promise<void> {
    this.#tokenWork.ids.add(id);
    return this.#readTokens();
  }

  /**
   * Runs the token reads wanted, one at a time (so an older answer never lands after a newer
   * one): all token sets when asked, else one batch of the profiles whose tokens changed, after
   * `TOKEN_BATCH_MS` to gather the events that follow. Events during a read go in the next one.
   * A read that fails is not retried in a loop; the next event reads every token set, since
   * what the failed read would have brought is unknown.
   */
  #readTokens(): Promise<void> {
    if (this.#tokenReads) return this.#tokenReads;
    const run = (async () => {
      while (this.#tokenWork.all || this.#tokenWork.ids.size > 0) {
        if (!this.#tokenWork.all && !this.#tokensStale) await sleep(TOKEN_BATCH_MS);
        const all = this.#tokenWork.all || this.#tokensStale;
        const ids = this.#tokenWork.ids;
        this.#tokenWork = { all: false, ids: new Set() };
        this.#removedMeanwhile.clear();
        try {
          if (all) {
            const next = await api.listTokens();
            const gone = this.#removedMeanwhile;
            this.tokens = reconcile(
              this.tokens,
              gone.size > 0 ? next.filter((t) => !gone.has(t.profile_id)) : next,
              byProfile,
            );
          } else {
            const got = await api.tokensOf([...ids]);
            for (const id of this.#removedMeanwhile) ids.delete(id);
            this.#patchTokens(patch(this.tokens, ids, got, byProfile));
          }
          this.#tokensStale = false;
          this.loadError = null;
        } catch (e) {
          this.loadError = api.toAppError(e);
          this.#tokensStale = true;
          break;
        }
      }
      this.#removedMeanwhile.clear();
      this.#tokenReads = null;
    })();
    this.#tokenReads = run;
    return run;
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
    const next = this.tokens.filter((t) => t.profile_id !== id);
    if (next.length !== this.tokens.length) this.tokens = next;
  }
}

export const desk = new Desk();
