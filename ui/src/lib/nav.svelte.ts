// Which view the main pane shows. No URL routing: the app is a single window.

import type { ProfileId } from './bindings/ProfileId';

export type ProfileTab = 'token' | 'inspect' | 'try' | 'history' | 'check' | 'debug' | 'config';

export type View =
  | { kind: 'dashboard' }
  | { kind: 'settings' }
  | { kind: 'new-profile' }
  | { kind: 'new-from-api' }
  /** `exchange`: on the debug tab, the exchange-log entry to open (a history mark's). */
  | { kind: 'profile'; id: ProfileId; tab: ProfileTab; exchange?: number };

const TABS: readonly ProfileTab[] = ['token', 'inspect', 'try', 'history', 'check', 'debug', 'config'];

/** A remembered view read back; `null` for anything that is not one (an older format). */
export function parseView(text: string): View | null {
  try {
    const v = JSON.parse(text) as Partial<{ kind: string; id: unknown; tab: unknown }>;
    if (v.kind === 'dashboard' || v.kind === 'settings' || v.kind === 'new-profile' || v.kind === 'new-from-api')
      return { kind: v.kind };
    if (v.kind === 'profile' && typeof v.id === 'string') {
      const tab = TABS.includes(v.tab as ProfileTab) ? (v.tab as ProfileTab) : 'token';
      return { kind: 'profile', id: v.id, tab };
    }
  } catch {
    // not JSON: no view
  }
  return null;
}

class Nav {
  view = $state<View>({ kind: 'dashboard' });

  go(view: View): void {
    this.view = view;
  }

  profile(id: ProfileId, tab: ProfileTab = 'token'): void {
    this.view = { kind: 'profile', id, tab };
  }

  /** The profile's exchange log with one entry open. */
  exchange(id: ProfileId, exchange: number): void {
    this.view = { kind: 'profile', id, tab: 'debug', exchange };
  }
}

export const nav = new Nav();
