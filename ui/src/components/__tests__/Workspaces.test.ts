// Workspaces in the app: the sidebar marks a workspace profile (folder, name, file path in the
// tooltip); Settings lists the folders with their file counts and each problem as
// file:line:column message, and adds, removes and re-syncs folders.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { desk } from '../../lib/desk.svelte';
import { toasts } from '../../lib/toast.svelte';
import type { WorkspaceStatus } from '../../lib/api';
import { makeProfile, settle } from '../../test/fixtures';
import Sidebar from '../Sidebar.svelte';
import WorkspacesSettings from '../WorkspacesSettings.svelte';

afterEach(() => {
  vi.mocked(invoke).mockReset();
  desk.profiles = [];
  desk.origins = new Map();
});

const TEAM: WorkspaceStatus = {
  dir: '/home/me/team-ws',
  files: [
    { file: 'test/gateway.toml', id: 'gw-1', name: 'gateway', problems: [] },
    {
      file: 'broken.toml',
      id: null,
      name: null,
      problems: [{ line: 3, column: 12, message: 'expected a value' }],
    },
  ],
  removed: [],
  parked: [],
  problem: null,
};
const OTHER: WorkspaceStatus = { dir: '/srv/other', files: [], removed: [], parked: [], problem: null };

describe('sidebar', () => {
  it('marks a workspace profile with its workspace and says its file', async () => {
    vi.mocked(invoke).mockImplementation(async (cmd: string) => {
      if (cmd === 'list_profiles')
        return [makeProfile({ id: 'gw-1', name: 'gateway' }), makeProfile({ id: 'loc-1', name: 'local' })];
      if (cmd === 'profile_origins') return [{ profile_id: 'gw-1', workspace: '/home/me/team-ws', file: 'test/gateway.toml' }];
      return [];
    });
    await desk.reloadProfiles();
    render(Sidebar);
    await settle();
    const mark = screen.getByTestId('profile-workspace-gateway');
    expect(mark.textContent).toContain('team-ws');
    expect(mark.getAttribute('title')).toContain('/home/me/team-ws/test/gateway.toml');
    expect(screen.queryByTestId('profile-workspace-local')).toBeNull();
  });
});

describe('settings: workspaces', () => {
  it('lists folders with file counts and each problem as file:line:column message', async () => {
    vi.mocked(invoke).mockImplementation(async (cmd: string) => (cmd === 'list_workspaces' ? [TEAM, OTHER] : null));
    render(WorkspacesSettings);
    await settle();
    const rows = screen.getAllByTestId('workspace');
    expect(rows).toHaveLength(2);
    expect(screen.getAllByTestId('workspace-count').map((c) => c.textContent?.trim())).toEqual(['2 files', '0 files']);
    expect(screen.getByTestId('workspace-problem').textContent).toBe('broken.toml:3:12 expected a value');
  });

  it('adds a folder by its path, removes one and re-syncs', async () => {
    const calls: [string, unknown][] = [];
    vi.mocked(invoke).mockImplementation(async (cmd: string, args?: unknown) => {
      calls.push([cmd, args]);
      if (cmd === 'list_workspaces') return [TEAM];
      if (cmd === 'add_workspace') return [TEAM, OTHER];
      if (cmd === 'remove_workspace') return [OTHER];
      if (cmd === 'sync_workspaces') return [OTHER];
      return null;
    });
    render(WorkspacesSettings);
    await settle();
    const input = screen.getByLabelText('Workspace folder') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: '  /srv/other ' } });
    await fireEvent.click(screen.getByTestId('workspace-add'));
    await settle();
    expect(calls).toContainEqual(['add_workspace', { dir: '/srv/other' }]);
    expect(screen.getAllByTestId('workspace')).toHaveLength(2);
    expect(input.value).toBe('');

    await fireEvent.click(screen.getByRole('button', { name: 'Remove workspace /home/me/team-ws' }));
    await settle();
    expect(calls).toContainEqual(['remove_workspace', { dir: '/home/me/team-ws' }]);
    expect(screen.getAllByTestId('workspace')).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('workspaces-sync'));
    await settle();
    expect(calls.map(([c]) => c)).toContain('sync_workspaces');
  });

  it('shows why a folder cannot be added', async () => {
    vi.mocked(invoke).mockImplementation(async (cmd: string) => {
      if (cmd === 'list_workspaces') return [];
      if (cmd === 'add_workspace') throw { code: 'not_found', message: '/nope is not a folder.', fields: [] };
      return null;
    });
    render(WorkspacesSettings);
    await settle();
    expect(screen.getByTestId('workspaces-empty')).toBeTruthy();
    await fireEvent.input(screen.getByTestId('workspace-path'), { target: { value: '/nope' } });
    await fireEvent.click(screen.getByTestId('workspace-add'));
    await settle();
    expect(document.body.textContent).toContain('/nope is not a folder.');
  });

  it('adds the folder chosen in the native picker; a cancelled picker adds nothing', async () => {
    const calls: [string, unknown][] = [];
    let chosen: string | null = '/home/me/picked';
    vi.mocked(invoke).mockImplementation(async (cmd: string, args?: unknown) => {
      calls.push([cmd, args]);
      if (cmd === 'list_workspaces') return [];
      if (cmd === 'choose_workspace_folder') return chosen;
      if (cmd === 'add_workspace') return [{ ...OTHER, dir: '/home/me/picked' }];
      return null;
    });
    render(WorkspacesSettings);
    await settle();
    await fireEvent.click(screen.getByTestId('workspace-choose'));
    await settle();
    expect(calls).toContainEqual(['add_workspace', { dir: '/home/me/picked' }]);
    expect(screen.getAllByTestId('workspace')).toHaveLength(1);
    chosen = null;
    calls.length = 0;
    await fireEvent.click(screen.getByTestId('workspace-choose'));
    await settle();
    expect(calls.map(([c]) => c)).toEqual(['choose_workspace_folder']);
  });

  it('reads the folders again when their files change on disk, and says which profiles left', async () => {
    let listed = 0;
    vi.mocked(invoke).mockImplementation(async (cmd: string) => {
      if (cmd === 'list_workspaces') return listed++ === 0 ? [OTHER] : [TEAM];
      return null;
    });
    render(WorkspacesSettings);
    await settle();
    expect(screen.queryByTestId('workspace-problem')).toBeNull();
    desk.handle({ type: 'workspaces_changed', removed: [] });
    await settle();
    expect(screen.getByTestId('workspace-problem').textContent).toBe('broken.toml:3:12 expected a value');
    desk.handle({ type: 'workspaces_changed', removed: ['gateway'] });
    expect(toasts.items.at(-1)?.message).toContain('“gateway” left the workspace');
    expect(toasts.items.at(-1)?.message).toContain('parked, not deleted');
    expect(toasts.items.at(-1)?.message).toContain('tokendesk workspace prune');
  });

  it('lists parked profiles and deletes what is kept for one after a confirmation', async () => {
    const { confirmation } = await import('../../lib/confirm.svelte');
    const parked = { id: 'gw-old', name: 'old gateway', workspace: TEAM.dir, file: 'old.toml', since: 0 };
    const calls: [string, unknown][] = [];
    vi.mocked(invoke).mockImplementation(async (cmd: string, args?: unknown) => {
      calls.push([cmd, args]);
      if (cmd === 'list_workspaces') return [{ ...TEAM, parked: [parked] }];
      if (cmd === 'delete_parked_profile') return [TEAM];
      return null;
    });
    render(WorkspacesSettings);
    await settle();
    expect(screen.getByTestId('workspace-parked').textContent).toContain('old.toml');
    await fireEvent.click(screen.getByTestId('parked-delete'));
    await settle();
    expect(confirmation.pending?.message).toContain('old.toml');
    confirmation.answer(true);
    await settle();
    expect(calls).toContainEqual(['delete_parked_profile', { id: 'gw-old' }]);
    expect(screen.queryByTestId('workspace-parked')).toBeNull();
  });
});
