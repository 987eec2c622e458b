/// <reference types="node" />
// Source files read from disk, for tests that check the sources themselves. CSS must come this
// way: vitest hands a test an empty string for any CSS module, `?raw` included.
import { readFileSync } from 'node:fs';

/** `src/` of the UI, with a trailing slash. */
const SRC = decodeURIComponent(import.meta.url.replace(/^file:\/\//, '').replace(/[^/]*\/[^/]*$/, ''));

/** The text of a file under `src/`, by its path from there (`app.css`, `./app.css`). */
export function readSource(path: string): string {
  return readFileSync(SRC + path.replace(/^\.\//, ''), 'utf8');
}
