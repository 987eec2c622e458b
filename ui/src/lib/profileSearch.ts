// The sidebar's list of profiles and its filter. The profiles' order (by environment, then name)
// and the lowercase text a filter matches are worked out once, when the profiles change; a
// keystroke then scans only what it must: a query that contains an earlier one (typing on) looks
// among that one's matches only (and keeps its lines when they all still match), and a query met
// before (deleting back) gets its lines again.

import type { Profile } from './bindings/Profile';

export const NO_ENV = 'no environment';

/** A line of the list: an environment's heading, or a profile. */
export type ProfileLine = { kind: 'env'; env: string; count: number } | { kind: 'profile'; p: Profile };

interface Entry {
  /** The profile's line, the same object for every query. */
  line: ProfileLine & { kind: 'profile' };
  env: string;
  /** What a filter matches against, lowercase. */
  hay: string;
}

interface Result {
  matches: readonly Entry[];
  lines: readonly ProfileLine[];
}

/** How many queries' results are kept (most recent first out of the way: typing, deleting). */
const MEMO = 16;
const collator = new Intl.Collator();

export class ProfileSearch {
  readonly #all: readonly Entry[];
  /** Results by normalised query; a Map keeps insertion order, the oldest go first. */
  #memo = new Map<string, Result>();

  constructor(profiles: readonly Profile[]) {
    this.#all = profiles
      .map((p) => ({
        line: { kind: 'profile' as const, p },
        env: p.environment.trim() || NO_ENV,
        hay: [p.name, p.environment, p.client_id, p.issuer ?? ''].join('\n').toLowerCase(),
      }))
      .sort(
        (a, b) =>
          (a.env === b.env
            ? 0
            : a.env === NO_ENV
              ? 1
              : b.env === NO_ENV
                ? -1
                : collator.compare(a.env, b.env)) || collator.compare(a.line.p.name, b.line.p.name),
      );
  }

  /**
   * The lines shown for `query` (case-insensitive, surrounding spaces ignored): the matching
   * profiles in list order, each environment's under a heading with its count. The same array
   * for the same query.
   */
  lines(query: string): readonly ProfileLine[] {
    const q = query.trim().toLowerCase();
    const hit = this.#memo.get(q);
    if (hit !== undefined) {
      this.#memo.delete(q);
      this.#memo.set(q, hit);
      return hit.lines;
    }
    // Whatever contains `q` contains every part of it: look among the matches of the longest
    // earlier query that is part of this one.
    let source: Result | undefined;
    let longest = -1;
    for (const [k, r] of this.#memo) {
      if (k.length > longest && q.includes(k)) {
        source = r;
        longest = k.length;
      }
    }
    const from = source?.matches ?? this.#all;
    const matches = q === '' ? this.#all : from.filter((e) => e.hay.includes(q));
    // Everything the earlier query matched still matches (typing "client-" when every client id
    // starts so): its very lines, so nothing downstream changes.
    const result = source !== undefined && matches.length === from.length ? source : { matches, lines: group(matches) };
    this.#memo.set(q, result);
    if (this.#memo.size > MEMO) this.#memo.delete(this.#memo.keys().next().value!);
    return result.lines;
  }
}

function group(matches: readonly Entry[]): ProfileLine[] {
  const out: ProfileLine[] = [];
  let head = { kind: 'env' as const, env: '', count: 0 };
  for (const e of matches) {
    if (head.count === 0 || head.env !== e.env) {
      head = { kind: 'env', env: e.env, count: 0 };
      out.push(head);
    }
    head.count++;
    out.push(e.line);
  }
  return out;
}
