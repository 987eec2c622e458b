// Sign-ins in progress, per profile, so that leaving the profile and coming back still shows
// "Waiting for the browser…". begin_login → wait_login (loopback) or complete_login (paste);
// a device sign-in: begin_device_login → wait_device_login (the backend polls).

import * as api from './api';
import type { AppError } from './api';
import type { CibaLoginStarted } from './bindings/CibaLoginStarted';
import type { DeviceLoginStarted } from './bindings/DeviceLoginStarted';
import type { LoginStarted } from './bindings/LoginStarted';
import type { ProfileId } from './bindings/ProfileId';
import { desk } from './desk.svelte';
import { signInKind } from './grants';

export type LoginPhase = 'starting' | 'waiting' | 'completing' | 'failed';

export interface LoginAttempt {
  phase: LoginPhase;
  started: LoginStarted | null;
  /** Why the attempt failed (phase `failed`) or why a pasted URL was refused. */
  error: AppError | null;
  /** Set while the user cancels, so the rejection of wait_login is not shown as an error. */
  cancelling: boolean;
  /** A device sign-in (RFC 8628): the code to show while the backend polls. */
  device?: DeviceLoginStarted;
  /** A CIBA sign-in: the binding message to show while the user approves on their device. */
  ciba?: CibaLoginStarted;
}

class Logins {
  attempts = $state<Record<ProfileId, LoginAttempt>>({});
  #seq = 0;
  #current: Record<ProfileId, number> = {};
  /** How each browser sign-in in progress ends, by its seq: whichever channel completes it
   * (the loopback listener or a pasted URL) settles it. */
  #outcomes = new Map<number, (signedIn: boolean) => void>();

  #settle(seq: number, signedIn: boolean) {
    const resolve = this.#outcomes.get(seq);
    this.#outcomes.delete(seq);
    resolve?.(signedIn);
  }

  get(id: ProfileId): LoginAttempt | undefined {
    return this.attempts[id];
  }

  #isCurrent(id: ProfileId, seq: number) {
    return this.#current[id] === seq;
  }

  #finish(id: ProfileId, seq: number) {
    if (!this.#isCurrent(id, seq)) return;
    this.#settle(seq, false);
    delete this.#current[id];
    delete this.attempts[id];
  }

  /** Opens a new attempt for the profile and makes its first call; `null` when that failed
   * (the attempt shows why) or a newer attempt took over meanwhile. */
  async #begin<T>(id: ProfileId, first: () => Promise<T>): Promise<{ seq: number; value: T } | null> {
    const seq = ++this.#seq;
    const previous = this.#current[id];
    if (previous !== undefined) this.#settle(previous, false);
    this.#current[id] = seq;
    this.attempts[id] = { phase: 'starting', started: null, error: null, cancelling: false };
    desk.progress[id] = [];
    try {
      const value = await first();
      return this.#isCurrent(id, seq) ? { seq, value } : null;
    } catch (e) {
      if (this.#isCurrent(id, seq)) this.attempts[id] = { ...this.attempts[id], phase: 'failed', error: api.toAppError(e) };
      return null;
    }
  }

  /** Starts a sign-in; resolves when it ends (signed in, failed, or cancelled). A device-code
   * profile signs in on another device. */
  async signIn(id: ProfileId): Promise<void> {
    const grant = desk.profileById.get(id)?.grant;
    if (grant !== undefined && signInKind(grant) === 'device') return this.signInDevice(id);
    if (grant !== undefined && signInKind(grant) === 'decoupled') return this.signInCiba(id);
    await this.signInBrowser(id, () => api.beginLogin(id));
  }

  /** A browser sign-in started by `begin` (a plain one, or a step-up); resolves `true` once the
   * token is stored, whether the browser came back to the listener or the redirect URL was
   * pasted, and `false` when it failed, was cancelled or another attempt took over. */
  async signInBrowser(id: ProfileId, begin: () => Promise<LoginStarted>): Promise<boolean> {
    const begun = await this.#begin(id, begin);
    if (begun === null) return false;
    const { seq, value: started } = begun;
    const outcome = new Promise<boolean>((resolve) => this.#outcomes.set(seq, resolve));
    this.attempts[id] = { phase: 'waiting', started, error: null, cancelling: false };
    // Without a listener the user pastes the redirect URL (`paste` settles the outcome).
    if (started.listening) void this.#waitBrowser(id, seq, started.login_id);
    return outcome;
  }

  async #waitBrowser(id: ProfileId, seq: number, loginId: string): Promise<void> {
    try {
      const token = await api.waitLogin(loginId);
      if (!this.#isCurrent(id, seq)) return;
      desk.putToken(token);
      this.#settle(seq, true);
      this.#finish(id, seq);
    } catch (e) {
      if (!this.#isCurrent(id, seq)) return;
      const a = this.attempts[id];
      if (a?.cancelling) {
        this.#finish(id, seq);
        return;
      }
      // A pasted URL may be completing this same login: its outcome decides.
      if (a?.phase === 'completing') return;
      this.attempts[id] = { ...a, phase: 'failed', error: api.toAppError(e) };
      this.#settle(seq, false);
    }
  }

  /** Starts a device sign-in; resolves when it ends (approved, denied, expired, cancelled). */
  async signInDevice(id: ProfileId): Promise<void> {
    const begun = await this.#begin(id, () => api.beginDeviceLogin(id));
    if (begun === null) return;
    const { seq, value: device } = begun;
    this.attempts[id] = { phase: 'waiting', started: null, device, error: null, cancelling: false };
    await this.#waitElsewhere(id, seq, device.login_id);
  }

  /** Starts a CIBA sign-in; resolves when it ends (approved, denied, expired, cancelled). */
  async signInCiba(id: ProfileId, loginHint: string | null = null): Promise<void> {
    const begun = await this.#begin(id, () => api.beginCibaLogin(id, { login_hint: loginHint, user_code: null }));
    if (begun === null) return;
    const { seq, value: ciba } = begun;
    this.attempts[id] = { phase: 'waiting', started: null, ciba, error: null, cancelling: false };
    await this.#waitElsewhere(id, seq, ciba.login_id);
  }

  /** Waits for a sign-in approved on another device (device code or CIBA). */
  async #waitElsewhere(id: ProfileId, seq: number, loginId: string): Promise<void> {
    try {
      const token = await api.waitDeviceLogin(loginId);
      if (!this.#isCurrent(id, seq)) return;
      desk.putToken(token);
      this.#finish(id, seq);
    } catch (e) {
      if (!this.#isCurrent(id, seq)) return;
      const a = this.attempts[id];
      if (a?.cancelling) {
        this.#finish(id, seq);
        return;
      }
      this.attempts[id] = { ...a, phase: 'failed', error: api.toAppError(e) };
    }
  }

  /** Finishes the sign-in with a redirect URL copied from the browser's address bar. */
  async paste(id: ProfileId, redirectUrl: string): Promise<void> {
    const a = this.attempts[id];
    const seq = this.#current[id];
    if (!a?.started || seq === undefined) return;
    this.attempts[id] = { ...a, phase: 'completing', error: null };
    try {
      const token = await api.completeLogin(a.started.login_id, redirectUrl.trim());
      if (!this.#isCurrent(id, seq)) return;
      desk.putToken(token);
      this.#settle(seq, true);
      this.#finish(id, seq);
    } catch (e) {
      if (!this.#isCurrent(id, seq)) return;
      // Keep waiting: the user can paste again or still finish in the browser.
      this.attempts[id] = { ...this.attempts[id], phase: 'waiting', error: api.toAppError(e) };
    }
  }

  async cancel(id: ProfileId): Promise<void> {
    const a = this.attempts[id];
    const seq = this.#current[id];
    if (!a || seq === undefined) return;
    const loginId = a.started?.login_id ?? a.device?.login_id ?? a.ciba?.login_id;
    if (loginId === undefined) {
      this.#finish(id, seq);
      return;
    }
    this.attempts[id] = { ...a, cancelling: true };
    try {
      await api.cancelLogin(loginId);
      this.#finish(id, seq);
    } catch (e) {
      if (this.#isCurrent(id, seq))
        this.attempts[id] = { ...this.attempts[id], cancelling: false, phase: 'failed', error: api.toAppError(e) };
    }
  }

  /** Clears a failed attempt so the user can start again. */
  dismiss(id: ProfileId): void {
    const seq = this.#current[id];
    if (seq !== undefined) this.#finish(id, seq);
    else delete this.attempts[id];
  }
}

export const logins = new Logins();
