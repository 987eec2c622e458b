// Scopes are typed as one space-separated line and stored as an array.

/** `"openid  profile\temail"` → `["openid", "profile", "email"]`. */
export function parseScopes(input: string): string[] {
  return input.split(/\s+/).filter((s) => s.length > 0);
}

/** `["openid", "profile"]` → `"openid profile"`. */
export function formatScopes(scopes: readonly string[]): string {
  return scopes.join(' ');
}
