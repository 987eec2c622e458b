// Which view the main pane shows. No URL routing: the app is a single window.

import type { ProfileId } from './bindings/ProfileId';

export type ProfileTab = 'token' | 'inspect' | 'try' | 'history' | 'debug' | 'config';

export type View =
  | { kind: 'dashboard' }
  | { kind: 'settings' }
  | { kind: 'new-profile' }
  | { kind: 'profile'; id: ProfileId; tab: ProfileTab };

class Nav {
  view = $state<View>({ kind: 'dashboard' });

  go(view: View): void {
    this.view = view;
  }

  profile(id: ProfileId, tab: ProfileTab = 'token'): void {
    this.view = { kind: 'profile', id, tab };
  }
}

export const nav = new Nav();
