import { describe, expect, it } from 'vitest';
import { epochMs, rawText } from '../epoch';
import { fieldKey, placeFieldErrors } from '../fieldErrors';
import { formatScopes, parseScopes } from '../scopes';

describe('scopes', () => {
  it('splits on any whitespace and drops empties', () => {
    expect(parseScopes('openid  profile\temail\n')).toEqual(['openid', 'profile', 'email']);
    expect(parseScopes('   ')).toEqual([]);
    expect(parseScopes('')).toEqual([]);
    expect(parseScopes('accounts:read')).toEqual(['accounts:read']);
  });

  it('joins with one space and round-trips', () => {
    expect(formatScopes(['openid', 'profile'])).toBe('openid profile');
    expect(formatScopes([])).toBe('');
    const s = ['a', 'b:c', 'https://api.example.com/x'];
    expect(parseScopes(formatScopes(s))).toEqual(s);
  });
});

describe('epoch detection for raw token-response fields', () => {
  it('reads epoch seconds and milliseconds, as numbers or strings', () => {
    expect(epochMs(1_700_000_000)).toBe(1_700_000_000_000);
    expect(epochMs('1700000000')).toBe(1_700_000_000_000);
    expect(epochMs(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(epochMs('1700000000123')).toBe(1_700_000_000_123);
    expect(epochMs(' 1700000000123 ')).toBe(1_700_000_000_123);
    expect(epochMs(1_700_000_000.5)).toBe(1_700_000_000_500);
  });

  it('leaves counters, durations and non-numbers alone', () => {
    for (const v of [0, 3, '3', 899, '899', 1799, 86_400, 999_999_999, -1_700_000_000, 'approved', '12abc', null, true, [1], { a: 1 }]) {
      expect(epochMs(v as never), JSON.stringify(v)).toBeNull();
    }
    expect(epochMs(5e12)).toBeNull(); // after 2100 in ms
    expect(epochMs(undefined)).toBeNull();
  });

  it('shows raw values as text, JSON for non-strings', () => {
    expect(rawText('BearerToken')).toBe('BearerToken');
    expect(rawText(3)).toBe('3');
    expect(rawText(['a', 'b'])).toBe('["a","b"]');
    expect(rawText(null)).toBe('null');
  });
});

describe('field-error mapping', () => {
  it('maps list items to their control', () => {
    expect(fieldKey('name')).toBe('name');
    expect(fieldKey('endpoints.token')).toBe('endpoints.token');
    expect(fieldKey('scopes[0]')).toBe('scopes');
    expect(fieldKey('scopes[12]')).toBe('scopes');
    expect(fieldKey('headers[1]')).toBe('headers[1]');
    expect(fieldKey('headers[1].name')).toBe('headers[1]');
    expect(fieldKey('token_params[0]')).toBe('token_params[0]');
    expect(fieldKey('refresh.remaining_percent')).toBe('refresh.remaining_percent');
  });

  it('joins several messages per control and keeps unknown fields apart', () => {
    const known = (k: string) => k !== 'mystery';
    const r = placeFieldErrors(
      [
        { field: 'name', message: 'Give the profile a name.' },
        { field: 'scopes[0]', message: '"a b" is not a scope token.' },
        { field: 'scopes[2]', message: '"c\\" is not a scope token.' },
        { field: 'headers[1]', message: 'Bad header.' },
        { field: 'mystery', message: 'Something else.' },
      ],
      known,
    );
    expect(r.byField).toEqual({
      name: 'Give the profile a name.',
      scopes: '"a b" is not a scope token. "c\\" is not a scope token.',
      'headers[1]': 'Bad header.',
    });
    expect(r.other).toEqual([{ field: 'mystery', message: 'Something else.' }]);
  });
});
