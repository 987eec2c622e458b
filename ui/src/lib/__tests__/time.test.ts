import { describe, expect, it } from 'vitest';
import { barLevel, countdownTo, formatCountdown, formatDuration, formatRelative, remainingFraction } from '../time';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('formatCountdown', () => {
  it('shows m:ss under an hour, rounding partial seconds up so 0:00 never shows before expiry', () => {
    expect(formatCountdown(1)).toBe('0:01');
    expect(formatCountdown(999)).toBe('0:01');
    expect(formatCountdown(1000)).toBe('0:01');
    expect(formatCountdown(1001)).toBe('0:02');
    expect(formatCountdown(59 * S)).toBe('0:59');
    expect(formatCountdown(60 * S)).toBe('1:00');
    expect(formatCountdown(9 * M + 5 * S)).toBe('9:05');
    expect(formatCountdown(H - S)).toBe('59:59');
  });

  it('shows h:mm:ss from an hour', () => {
    expect(formatCountdown(H)).toBe('1:00:00');
    expect(formatCountdown(H + 61 * S)).toBe('1:01:01');
    expect(formatCountdown(D - S)).toBe('23:59:59');
  });

  it('shows Nd h:mm:ss from a day', () => {
    expect(formatCountdown(D)).toBe('1d 0:00:00');
    expect(formatCountdown(2 * D + 3 * H + 4 * M + 5 * S)).toBe('2d 3:04:05');
    expect(formatCountdown(90 * D)).toBe('90d 0:00:00');
  });

  it('says expired at and after expiry, and no expiry for null', () => {
    expect(formatCountdown(0)).toBe('expired');
    expect(formatCountdown(-1)).toBe('expired');
    expect(formatCountdown(-5 * D)).toBe('expired');
    expect(formatCountdown(null)).toBe('no expiry');
    expect(countdownTo(null, 123)).toBe('no expiry');
    expect(countdownTo(10_000, 10_000)).toBe('expired');
    expect(countdownTo(10_000, 9_000)).toBe('0:01');
  });
});

describe('lifetime bar', () => {
  it('is the share of the lifetime left, clamped to [0, 1]', () => {
    expect(remainingFraction(0, 1000, 0)).toBe(1);
    expect(remainingFraction(0, 1000, 250)).toBe(0.75);
    expect(remainingFraction(0, 1000, 1000)).toBe(0);
    expect(remainingFraction(0, 1000, 5000)).toBe(0);
    expect(remainingFraction(1000, 2000, 0)).toBe(1); // clock before the start
    expect(remainingFraction(0, null, 10)).toBeNull();
  });

  it('handles a lifetime of zero or less without dividing by it', () => {
    expect(remainingFraction(1000, 1000, 500)).toBe(1);
    expect(remainingFraction(1000, 1000, 1000)).toBe(0);
    expect(remainingFraction(2000, 1000, 1500)).toBe(0);
  });

  it('is green above half, amber above a fifth, red below, grey when expired', () => {
    expect(barLevel(1)).toBe('ok');
    expect(barLevel(0.5001)).toBe('ok');
    expect(barLevel(0.5)).toBe('warn');
    expect(barLevel(0.2001)).toBe('warn');
    expect(barLevel(0.2)).toBe('crit');
    expect(barLevel(0.0001)).toBe('crit');
    expect(barLevel(0)).toBe('expired');
    expect(barLevel(null)).toBe('none');
  });
});

describe('other formats', () => {
  it('formats relative times and durations', () => {
    expect(formatRelative(1000, 0)).toBe('just now');
    expect(formatRelative(30 * S, 0)).toBe('in 30 s');
    expect(formatRelative(0, 5 * M)).toBe('5 min ago');
    expect(formatRelative(3 * H, 0)).toBe('in 3 h');
    expect(formatRelative(0, 2 * D)).toBe('2 d ago');
    expect(formatDuration(85)).toBe('85 ms');
    expect(formatDuration(1240)).toBe('1.24 s');
  });
});
