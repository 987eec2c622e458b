// The grants as tokendesk-core registers them (bindings/grants.ts is generated from the
// registry): labels, and whether a grant needs a user in the browser.

import type { GrantInfo } from './bindings/GrantInfo';
import type { GrantKind } from './bindings/GrantKind';
import type { SignIn } from './bindings/SignIn';
import { GRANTS } from './bindings/grants';

export { GRANTS };

export function grantInfo(kind: GrantKind): GrantInfo {
  return GRANTS.find((g) => g.kind === kind) ?? GRANTS[0];
}

/** "client credentials", "JWT bearer", … */
export const grantLabel = (kind: GrantKind): string => grantInfo(kind).label;

/** Whether only a sign-in in the browser gets this grant a token (no headless request). */
export const interactive = (kind: GrantKind): boolean => grantInfo(kind).interactive;

/** Short form for tight places: "code", "cc", "jwt". */
export function grantShort(kind: GrantKind): string {
  return kind === 'authorization_code' ? 'code' : kind === 'client_credentials' ? 'cc' : kind.split('_')[0];
}

/** How a user takes part: `none` (headless), `browser` here, or `device` (a code on another device). */
export const signInKind = (kind: GrantKind): SignIn => grantInfo(kind).sign_in;
