// Pure time helpers: countdowns, lifetime fractions, human-readable dates. No clock in here:
// every function takes `now` so the views can share one ticking clock (see clock.svelte.ts).

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const pad2 = (n: number) => (n < 10 ? '0' + n : String(n));

/**
 * A remaining duration as a countdown: `m:ss` under an hour, `h:mm:ss` from an hour, `Nd h:mm:ss`
 * from a day. Partial seconds round up, so the display reaches `0:00` only at expiry; zero or
 * less is `expired`, `null` (no expiry known) is `no expiry`.
 */
export function formatCountdown(remainingMs: number | null): string {
  if (remainingMs === null) return 'no expiry';
  if (!(remainingMs > 0)) return 'expired';
  let s = Math.ceil(remainingMs / SECOND);
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (days > 0) return `${days}d ${h}:${pad2(m)}:${pad2(s)}`;
  if (h > 0) return `${h}:${pad2(m)}:${pad2(s)}`;
  return `${m}:${pad2(s)}`;
}

/** The countdown to an absolute expiry (epoch ms), `null` meaning none is known. */
export function countdownTo(expiresAt: number | null, now: number): string {
  return formatCountdown(expiresAt === null ? null : expiresAt - now);
}

/**
 * The share of a lifetime still left at `now`, in [0, 1]; `null` when there is no expiry or no
 * usable lifetime (expiry not after the start).
 */
export function remainingFraction(
  startAt: number,
  expiresAt: number | null,
  now: number,
): number | null {
  if (expiresAt === null) return null;
  const lifetime = expiresAt - startAt;
  if (!(lifetime > 0)) return expiresAt > now ? 1 : 0;
  const f = (expiresAt - now) / lifetime;
  return f <= 0 ? 0 : f >= 1 ? 1 : f;
}

/** Colour class of a lifetime bar. */
export type BarLevel = 'ok' | 'warn' | 'crit' | 'expired' | 'none';

/** Thresholds of the bar colours: green above half the lifetime, amber above a fifth. */
export const OK_ABOVE = 0.5;
export const WARN_ABOVE = 0.2;

/** Green > 50 % left, amber > 20 %, red below, grey once expired; `none` without an expiry. */
export function barLevel(fraction: number | null): BarLevel {
  if (fraction === null) return 'none';
  if (fraction <= 0) return 'expired';
  if (fraction > OK_ABOVE) return 'ok';
  if (fraction > WARN_ABOVE) return 'warn';
  return 'crit';
}

/** Everything a countdown cell draws, from one `now`. */
export interface CountdownView {
  text: string;
  /** In [0, 1]; 0 when there is no expiry (the bar is hidden then). */
  fraction: number;
  level: BarLevel;
}

export function countdownView(
  startAt: number,
  expiresAt: number | null,
  now: number,
): CountdownView {
  const fraction = remainingFraction(startAt, expiresAt, now);
  return {
    text: countdownTo(expiresAt, now),
    fraction: fraction ?? 0,
    level: barLevel(fraction),
  };
}

/** `2024-05-01T12:00:00.000Z` — unambiguous, for tables and tooltips. */
export function formatIso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** Local date and time, `2024-05-01 14:00:00`, for dense tables. */
export function formatLocal(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/** Local time of day, `14:00:05`. */
export function formatTimeOfDay(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** `in 5 min`, `3 h ago`, `just now`. */
export function formatRelative(ms: number, now: number): string {
  const diff = ms - now;
  const abs = Math.abs(diff);
  if (abs < 5 * SECOND) return 'just now';
  let value: number;
  let unit: string;
  if (abs < MINUTE) [value, unit] = [Math.round(abs / SECOND), 's'];
  else if (abs < HOUR) [value, unit] = [Math.round(abs / MINUTE), 'min'];
  else if (abs < DAY) [value, unit] = [Math.round((abs / HOUR) * 10) / 10, 'h'];
  else [value, unit] = [Math.round((abs / DAY) * 10) / 10, 'd'];
  return diff > 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

/** A request duration: `85 ms`, `1.24 s`. */
export function formatDuration(ms: number): string {
  if (ms < SECOND) return `${Math.round(ms)} ms`;
  if (ms < MINUTE) return `${(ms / SECOND).toFixed(2)} s`;
  return formatCountdown(ms);
}
