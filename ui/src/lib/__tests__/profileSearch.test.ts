import { describe, expect, it } from 'vitest';
import type { Profile } from '../bindings/Profile';
import { ProfileSearch, type ProfileLine } from '../profileSearch';
import { makeProfile } from '../../test/fixtures';

const profiles: Profile[] = [
  makeProfile({ id: 'a', name: 'Billing API', environment: 'prod', client_id: 'billing-1', issuer: 'https://idp.example.com' }),
  makeProfile({ id: 'b', name: 'Admin', environment: 'staging', client_id: 'admin-cli' }),
  makeProfile({ id: 'c', name: 'Analytics', environment: 'prod', client_id: 'an-7' }),
  makeProfile({ id: 'd', name: 'Local thing', environment: '  ', client_id: 'local-17' }),
  makeProfile({ id: 'e', name: 'alpha', environment: 'staging', client_id: 'alpha-171' }),
];

/** Lines as text: `#env count` for a heading, the profile's id for a profile. */
const text = (lines: readonly ProfileLine[]) => lines.map((l) => (l.kind === 'env' ? `#${l.env} ${l.count}` : l.p.id));

describe('ProfileSearch', () => {
  it('lists the profiles by environment (none last), then name, under headings with counts', () => {
    expect(text(new ProfileSearch(profiles).lines(''))).toEqual(['#prod 2', 'c', 'a', '#staging 2', 'b', 'e', '#no environment 1', 'd']);
  });

  it('matches name, environment, client id and issuer, ignoring case and surrounding spaces', () => {
    const s = new ProfileSearch(profiles);
    expect(text(s.lines('  BILLING '))).toEqual(['#prod 1', 'a']);
    expect(text(s.lines('staging'))).toEqual(['#staging 2', 'b', 'e']);
    expect(text(s.lines('example.com'))).toEqual(['#prod 1', 'a']);
    expect(text(s.lines('-17'))).toEqual(['#staging 1', 'e', '#no environment 1', 'd']);
    expect(s.lines('nothing like it')).toEqual([]);
  });

  it('typing on, deleting back and jumping give what a fresh search gives', () => {
    const s = new ProfileSearch(profiles);
    const queries = ['a', 'al', 'alp', 'al', 'a', '', 'l', 'lo', 'loc', 'cal', 'ocal-1', 'ocal-17', '1', '17', '-1', 'a', 'an', 'n-', 'an-7', 'i', 'in', 'li', 'lin', ''];
    for (const q of queries) expect(text(s.lines(q)), q).toEqual(text(new ProfileSearch(profiles).lines(q)));
  });

  it('gives the same lines again for a query met before', () => {
    const s = new ProfileSearch(profiles);
    const all = s.lines('');
    const a = s.lines('a');
    s.lines('ad');
    expect(s.lines('a')).toBe(a);
    expect(s.lines('')).toBe(all);
    // A longer query that every earlier match still matches: the same lines too.
    const billing = s.lines('billing');
    expect(s.lines('billing-')).toBe(billing);
    expect(text(s.lines('billing-2'))).toEqual([]);
  });
});
