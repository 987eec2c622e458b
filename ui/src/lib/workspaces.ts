// Workspace helpers shared by the sidebar, Settings and the profile form.

import type { FileProblem } from './bindings/FileProblem';
import type { Origin } from './bindings/Origin';

/** A file's problem as `file:line:column message` (the position when it is known). */
export function problemText(file: string, p: FileProblem): string {
  const at = p.line != null ? `:${p.line}${p.column != null ? `:${p.column}` : ''}` : '';
  return `${file}${at} ${p.message}`;
}

/** The workspace's folder name (the last part of its path). */
export function workspaceName(dir: string): string {
  const parts = dir.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? dir;
}

/** The full path of a workspace profile's file. */
export function originPath(o: Origin): string {
  const sep = o.workspace.includes('\\') && !o.workspace.includes('/') ? '\\' : '/';
  return `${o.workspace.replace(/[\\/]+$/, '')}${sep}${o.file}`;
}
