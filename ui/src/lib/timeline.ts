// The token history as lives on a time axis: each token from the event that obtained it,
// through its refreshes, to its end (replaced by a new acquisition, revoked, expired). Pure:
// the Timeline component draws what this computes.

import type { EventKind } from './bindings/EventKind';
import type { TokenEvent } from './bindings/TokenEvent';
import type { Trigger } from './bindings/Trigger';
import { grantInfo } from './grants';
import type { GrantKind } from './bindings/GrantKind';

export type Zoom = 'all' | 'hour' | 'day' | 'week';

export const ZOOMS: { id: Zoom; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'hour', label: 'Hour' },
  { id: 'day', label: 'Day' },
  { id: 'week', label: 'Week' },
];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const SPAN: Record<Exclude<Zoom, 'all'>, number> = { hour: HOUR, day: DAY, week: 7 * DAY };

/** How a token's life ended; `live` while it has not. */
export type Ending = 'replaced' | 'revoked' | 'expired' | 'live';

export interface Life {
  start: number;
  /** When it ended, or (live) its known expiry, `null` when none is known. */
  end: number | null;
  ending: Ending;
  /** The successful events of this token, oldest first: what obtained it, then its refreshes. */
  events: TokenEvent[];
}

export const TRIGGER_LABEL: Record<Trigger, string> = {
  manual: 'manual',
  automatic: 'automatic',
  command_line: 'command line',
};

export const KIND_LABEL: Record<EventKind, string> = {
  acquisition: 'acquisition',
  refresh: 'refresh',
  revocation: 'revocation',
};

export const ENDING_LABEL: Record<Ending, string> = {
  replaced: 'replaced by a new token',
  revoked: 'revoked',
  expired: 'expired',
  live: 'still valid',
};

/** Oldest first; the store's id breaks ties in time. */
export function chronological(events: readonly TokenEvent[]): TokenEvent[] {
  return [...events].sort((a, b) => a.at - b.at || a.id - b.id);
}

/** What a successful event left alive until: the refresh token's expiry if later, else the access token's. */
function aliveUntil(e: TokenEvent): number | null {
  const times = [e.access_expires_at, e.refresh_expires_at].filter((t): t is number => t !== null);
  return times.length ? Math.max(...times) : null;
}

/** The lives of the tokens the history tells of, oldest first. */
export function lives(events: readonly TokenEvent[], now: number): Life[] {
  const out: Life[] = [];
  let current: Life | null = null;
  let until: number | null = null;
  const close = (at: number, ending: Ending) => {
    if (!current) return;
    // A token that was dead before anything replaced it ended by expiring.
    const died = ending !== 'revoked' && until !== null && until < at;
    current.end = died ? until : at;
    current.ending = died ? 'expired' : ending;
    out.push(current);
    current = null;
  };
  for (const e of chronological(events)) {
    if (e.outcome !== 'success') continue;
    if (e.kind === 'revocation') {
      // Revoking the refresh token ends the grant; an access token alone is renewed after.
      if (e.method === 'refresh_token') close(e.at, 'revoked');
      continue;
    }
    const expired = until !== null && until < e.at;
    if (current && (e.kind === 'acquisition' || expired)) close(e.at, 'replaced');
    if (!current) current = { start: e.at, end: null, ending: 'live', events: [] };
    current.events.push(e);
    until = aliveUntil(e);
  }
  if (current) {
    const open: Life = current;
    open.end = until;
    open.ending = until !== null && until <= now ? 'expired' : 'live';
    out.push(open);
  }
  return out;
}

/** The time window a zoom shows: [from, to] in epoch ms, ending a little after `end`. */
export function windowOf(zoom: Zoom, events: readonly TokenEvent[], end: number): { from: number; to: number } {
  if (zoom === 'all') {
    const first = events.reduce((m, e) => Math.min(m, e.at), end);
    const span = Math.max(end - first, MINUTE / 3);
    const pad = span * 0.06;
    return { from: end - span - pad, to: end + pad };
  }
  const span = SPAN[zoom];
  return { from: end - span * 0.95, to: end + span * 0.05 };
}

/** Ticks for an axis over [from, to]: round times, about `count` of them. */
export function ticks(from: number, to: number, count = 6): number[] {
  const steps = [
    MINUTE / 6, MINUTE / 2, MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY,
  ];
  const step = steps.find((s) => (to - from) / s <= count) ?? 7 * DAY;
  // Round in local time, so hours and days fall on the clock's own marks.
  const offset = new Date(from).getTimezoneOffset() * MINUTE;
  const first = Math.ceil((from - offset) / step) * step + offset;
  const out: number[] = [];
  for (let t = first; t <= to; t += step) out.push(t);
  return out;
}

/** A tick's label: time of day, or the date when the step is a day or more. */
export function tickLabel(t: number, from: number, to: number): string {
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (to - from > 3 * DAY) return `${d.getMonth() + 1}/${d.getDate()}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return to - from < 10 * MINUTE ? `${time}:${pad(d.getSeconds())}` : time;
}

/** "sign-in (authorization code)", "refresh (refresh token)", "revocation (access token)", … */
export function eventTitle(e: TokenEvent): string {
  const how = e.method.replaceAll('_', ' ');
  if (e.kind === 'acquisition') {
    const grant = grantInfo(e.method as GrantKind);
    const label = grant.kind === e.method ? grant.label : how;
    return grant.kind === e.method && grant.interactive ? `sign-in (${label})` : `acquisition (${label})`;
  }
  return `${KIND_LABEL[e.kind]} (${how})`;
}
