// Which view the main pane shows. No URL routing: the app is a single window.

import type { ProfileId } from './bindings/ProfileId';

export type ProfileTab = 'token' | 'inspect' | 'try' | 'history' | 'check' | 'debug' | 'config';

export type View =
  | { kind: 'dashboard' }
  | { kind: 'settings' }
  | { kind: 'new-profile' }
  /** `exchange`: on the debug tab, the exchange-log entry to open (a history mark's). */
  | { kind: 'profile'; id: ProfileId; tab: ProfileTab; exchange?: number };

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
