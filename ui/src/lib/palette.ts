// The command palette's entries and its fuzzy match: pure functions, so the component only
// draws and runs what these return.

import type { Profile } from './bindings/Profile';
import type { ProfileId } from './bindings/ProfileId';
import { interactive } from './grants';

export type PaletteAction =
  | { kind: 'open'; id: ProfileId }
  | { kind: 'copy'; id: ProfileId }
  | { kind: 'get'; id: ProfileId }
  | { kind: 'sign-in'; id: ProfileId }
  | { kind: 'refresh'; id: ProfileId }
  | { kind: 'dashboard' }
  | { kind: 'settings' }
  | { kind: 'new-profile' }
  | { kind: 'close-window' };

export interface PaletteItem {
  /** Unique; also the test id's tail. */
  key: string;
  label: string;
  /** What it is about (a profile's name) — matched too. */
  detail: string;
  action: PaletteAction;
}

/** Every entry: per profile, jump to it, copy its token, get one (or sign in), refresh; then
 * the app's own places. */
export function paletteItems(profiles: readonly Profile[], hasToken: (id: ProfileId) => boolean): PaletteItem[] {
  const out: PaletteItem[] = [];
  for (const p of profiles) {
    const env = p.environment ? ` · ${p.environment}` : '';
    out.push({ key: `open-${p.id}`, label: p.name, detail: `Go to profile${env}`, action: { kind: 'open', id: p.id } });
    out.push({ key: `copy-${p.id}`, label: `Copy token: ${p.name}`, detail: 'Access token to the clipboard', action: { kind: 'copy', id: p.id } });
    if (interactive(p.grant)) {
      out.push({ key: `sign-in-${p.id}`, label: `Sign in: ${p.name}`, detail: 'In the browser', action: { kind: 'sign-in', id: p.id } });
    } else {
      out.push({ key: `get-${p.id}`, label: `Get token: ${p.name}`, detail: 'A new token from the provider', action: { kind: 'get', id: p.id } });
    }
    if (hasToken(p.id)) {
      out.push({ key: `refresh-${p.id}`, label: `Refresh: ${p.name}`, detail: 'Renew the token now', action: { kind: 'refresh', id: p.id } });
    }
  }
  out.push({ key: 'dashboard', label: 'Dashboard', detail: 'All live tokens', action: { kind: 'dashboard' } });
  out.push({ key: 'new-profile', label: 'New profile', detail: 'Add a client profile', action: { kind: 'new-profile' } });
  out.push({ key: 'settings', label: 'Settings', detail: 'Clipboard, tray, warnings, shortcuts', action: { kind: 'settings' } });
  out.push({ key: 'close-window', label: 'Close window', detail: 'To the tray, when the setting says so', action: { kind: 'close-window' } });
  return out;
}

/**
 * How well `query` matches `text` as a fuzzy subsequence (case-insensitive): `null` when some
 * character is missing; higher is better — consecutive characters, word starts and short gaps
 * count.
 */
export function fuzzyScore(query: string, text: string): number | null {
  const q = query.toLowerCase().replace(/\s+/g, '');
  if (!q) return 0;
  const t = text.toLowerCase();
  let score = 0;
  let at = -1;
  let run = 0;
  for (const ch of q) {
    const next = t.indexOf(ch, at + 1);
    if (next < 0) return null;
    run = next === at + 1 ? run + 1 : 0;
    const wordStart = next === 0 || /[\s:·\-_/]/.test(t[next - 1]);
    score += 1 + run * 2 + (wordStart ? 3 : 0);
    // The nearer the characters, the better: "sandbox client" finds "Sandbox · client" before
    // "Sandbox gateway · client".
    score -= Math.min(next - at - 1, 20) * 0.1;
    at = next;
  }
  return score;
}

/** The items that match, best first (ties keep their order); everything when the query is empty. */
export function filterItems(items: readonly PaletteItem[], query: string): PaletteItem[] {
  if (!query.trim()) return [...items];
  return items
    .map((item, i) => ({ item, i, s: fuzzyScore(query, item.label) ?? fuzzyScore(query, `${item.label} ${item.detail}`) }))
    .filter((x): x is { item: PaletteItem; i: number; s: number } => x.s !== null)
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map((x) => x.item);
}

/** The keyboard shortcuts, as the app lists them. */
export const SHORTCUTS: { keys: string; what: string }[] = [
  { keys: 'Ctrl+K', what: 'Command palette: jump to a profile, copy or get its token, sign in, refresh' },
  { keys: '↑ ↓  Enter', what: 'In the palette: choose, run' },
  { keys: 'Esc', what: 'Close the palette or a dialog' },
  { keys: 'Ctrl+1', what: 'Dashboard' },
  { keys: 'Ctrl+N', what: 'New profile' },
  { keys: 'Ctrl+,', what: 'Settings (and this list)' },
  { keys: 'Ctrl+W', what: 'Close the window (to the tray, when the setting says so)' },
];
