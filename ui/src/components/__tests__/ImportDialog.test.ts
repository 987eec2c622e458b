// "Import…": the plan the core reads from a file (profiles, where secrets were found, warnings,
// errors that block the import), the flags sent with Import, and the core's error shown with
// nothing created.
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import type { ImportReq } from '../../lib/bindings/ImportReq';
import type { PlanSummary } from '../../lib/bindings/PlanSummary';
import { nav } from '../../lib/nav.svelte';
import { emptyConfig } from '../../lib/profileForm';
import { toasts } from '../../lib/toast.svelte';
import { makeProfile } from '../../test/fixtures';
import ImportDialog from '../ImportDialog.svelte';

const invokeMock = vi.mocked(invoke);

const PLAN: PlanSummary = {
  format: 'postman',
  profiles: [
    {
      name: 'Shop',
      origin: 'collection "Shop"',
      used_by: ['Shop / List products'],
      secret_found: 'clientSecret',
      config: {
        ...emptyConfig(),
        name: 'Shop',
        grant: 'client_credentials',
        client_id: 'shop-backend',
        endpoints: { ...emptyConfig().endpoints, token: 'https://idp.example.com/token' },
        scopes: ['products:read'],
      },
    },
    {
      name: 'Shop / Me',
      origin: 'request "Shop / Me"',
      used_by: [],
      secret_found: null,
      config: { ...emptyConfig(), name: 'Shop / Me', client_id: 'shop-web', scopes: ['openid'] },
    },
  ],
  warnings: ['request "Shop / Legacy": the password grant is not run by TokenDesk; skipped.'],
  errors: [],
};

let plan: PlanSummary = PLAN;
let importFails = false;
const sent: { cmd: string; req: ImportReq }[] = [];
let closed = 0;

beforeEach(() => {
  plan = PLAN;
  importFails = false;
  sent.length = 0;
  closed = 0;
  nav.go({ kind: 'dashboard' });
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string, args?: unknown) => {
    const req = (args as { req: ImportReq }).req;
    sent.push({ cmd, req });
    switch (cmd) {
      case 'plan_import':
        return structuredClone(plan);
      case 'import_file':
        if (importFails) {
          throw {
            code: 'conflict',
            message: 'Nothing imported: a profile of that name already exists ("Shop").',
            fields: [],
          };
        }
        return [makeProfile({ id: 'imp1', name: 'Shop' }), makeProfile({ id: 'imp2', name: 'Shop / Me' })];
      default:
        throw { code: 'internal', message: `unexpected ${cmd}`, fields: [] };
    }
  });
});

async function showPlan(path = '/home/me/shop.postman_collection.json') {
  render(ImportDialog, { props: { onclose: () => closed++ } });
  await fireEvent.input(screen.getByTestId('import-path'), { target: { value: path } });
  await fireEvent.input(screen.getByTestId('import-environment'), { target: { value: ' staging ' } });
  await fireEvent.click(screen.getByTestId('import-preview'));
  return screen.findByTestId('import-plan');
}

describe('Import dialog', () => {
  it('shows the plan: profiles, where secrets were found, warnings', async () => {
    const shown = await showPlan();
    expect(sent[0]).toEqual({
      cmd: 'plan_import',
      req: expect.objectContaining({
        path: '/home/me/shop.postman_collection.json',
        text: null,
        environment: 'staging',
        clientId: null,
      }),
    });
    expect(shown.textContent).toContain('Postman collection v2.1');
    expect(screen.getAllByTestId('import-profile')).toHaveLength(2);
    expect(shown.textContent).toContain('https://idp.example.com/token');
    expect(shown.textContent).toContain('products:read');
    expect(screen.getByTestId('import-secret-found').textContent).toContain('clientSecret');
    expect(screen.getByTestId('import-warnings').textContent).toContain('password grant');
    expect(screen.queryByTestId('import-errors')).toBeNull();
    expect(screen.getByTestId('import-store-secrets').parentElement!.textContent).toContain(
      'Store the 1 secret found in the OS keychain',
    );
    expect((screen.getByTestId('import-run') as HTMLButtonElement).disabled).toBe(false);
  });

  it('renders errors and keeps Import disabled while there are some', async () => {
    plan = { ...PLAN, errors: ['folder "Shop / Broken": the token URL is not a URL.'] };
    await showPlan();
    expect(screen.getByTestId('import-errors').textContent).toContain('Shop / Broken');
    expect(screen.getByTestId('import-blocked')).toBeTruthy();
    const run = screen.getByTestId('import-run') as HTMLButtonElement;
    expect(run.disabled).toBe(true);
    await fireEvent.click(run);
    expect(sent.some((s) => s.cmd === 'import_file')).toBe(false);
  });

  it('sends the store-secrets and rename flags, then opens the first profile', async () => {
    await showPlan();
    await fireEvent.click(screen.getByTestId('import-store-secrets'));
    await fireEvent.click(screen.getByTestId('import-rename'));
    await fireEvent.click(screen.getByTestId('import-run'));
    await waitFor(() => expect(closed).toBe(1));
    const imp = sent.find((s) => s.cmd === 'import_file')!;
    expect(imp.req).toEqual(
      expect.objectContaining({
        path: '/home/me/shop.postman_collection.json',
        environment: 'staging',
        storeFoundSecrets: true,
        rename: true,
      }),
    );
    expect(nav.view).toEqual({ kind: 'profile', id: 'imp1', tab: 'token' });
    expect(toasts.items.at(-1)?.message).toBe('Imported 2 profiles');
  });

  it('does not store secrets unless asked', async () => {
    await showPlan();
    await fireEvent.click(screen.getByTestId('import-run'));
    await waitFor(() => expect(closed).toBe(1));
    const imp = sent.find((s) => s.cmd === 'import_file')!;
    expect(imp.req.storeFoundSecrets).toBe(false);
    expect(imp.req.rename).toBe(false);
  });

  it("shows the core's error and creates nothing", async () => {
    importFails = true;
    await showPlan();
    await fireEvent.click(screen.getByTestId('import-run'));
    const err = await screen.findByTestId('error-message');
    expect(err.textContent).toContain('already exists ("Shop")');
    expect(closed).toBe(0);
    expect(nav.view.kind).toBe('dashboard');
    expect(screen.getByTestId('import-rename-hint').textContent).toContain('Rename on name clash');
  });

  it('sends a chosen file as text with its name', async () => {
    render(ImportDialog, { props: { onclose: () => closed++ } });
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('import-path')));
    const file = new File(['{"info":{}}'], 'shop.postman_collection.json', { type: 'application/json' });
    await fireEvent.change(screen.getByTestId('import-file'), { target: { files: [file] } });
    await screen.findByTestId('import-plan');
    expect(sent[0].req).toEqual(
      expect.objectContaining({ path: null, text: '{"info":{}}', fileName: 'shop.postman_collection.json' }),
    );
    expect(screen.getByTestId('import-picked').textContent).toContain('shop.postman_collection.json');
  });

  it('closes on Escape and keeps Tab inside', async () => {
    await showPlan();
    const dialog = screen.getByTestId('import-dialog');
    const run = screen.getByTestId('import-run');
    run.focus();
    await fireEvent.keyDown(dialog, { key: 'Tab' });
    expect(document.activeElement).toBe(screen.getByLabelText('Close'));
    await fireEvent.keyDown(dialog, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(run);
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(closed).toBe(1);
  });

  it('drops the plan when what to import changes', async () => {
    await showPlan();
    await fireEvent.input(screen.getByTestId('import-client-id'), { target: { value: 'other' } });
    expect(screen.queryByTestId('import-plan')).toBeNull();
    expect((screen.getByTestId('import-run') as HTMLButtonElement).disabled).toBe(true);
  });

  it('takes a found secret from the source chosen for it: a command or a variable drops the value', async () => {
    await showPlan();
    // Only the profile with a secret found gets a source picker, the keychain first.
    const from = screen.getByTestId('secret-source-import-0-from') as HTMLSelectElement;
    expect(from.value).toBe('keychain');
    expect(screen.queryByTestId('secret-source-import-1-from')).toBeNull();
    await fireEvent.change(from, { target: { value: 'command' } });
    await fireEvent.input(screen.getByTestId('secret-source-import-0-argv'), {
      target: { value: "pass show 'shop/client secret'" },
    });
    expect(screen.getByTestId('import-secret-dropped-0').textContent).toContain('not kept');
    // Nothing is left for the keychain: no "store" choice.
    expect(screen.queryByTestId('import-store-secrets')).toBeNull();
    await fireEvent.click(screen.getByTestId('import-run'));
    await waitFor(() => expect(closed).toBe(1));
    const imp = sent.find((s) => s.cmd === 'import_file')!;
    expect(imp.req.secretSources).toEqual([{ from: 'command', argv: ['pass', 'show', 'shop/client secret'] }, null]);
    expect(imp.req.storeFoundSecrets).toBe(false);
  });

  it('an environment variable as the source; back to the keychain offers storing it again', async () => {
    await showPlan();
    const from = screen.getByTestId('secret-source-import-0-from') as HTMLSelectElement;
    await fireEvent.change(from, { target: { value: 'env' } });
    await fireEvent.input(screen.getByTestId('secret-source-import-0-var'), { target: { value: 'SHOP_SECRET' } });
    await fireEvent.click(screen.getByTestId('import-run'));
    await waitFor(() => expect(closed).toBe(1));
    expect(sent.find((s) => s.cmd === 'import_file')!.req.secretSources).toEqual([
      { from: 'env', var: 'SHOP_SECRET' },
      null,
    ]);
  });

  it('the keychain (the default) sends no source and stores the value when asked', async () => {
    await showPlan();
    const from = screen.getByTestId('secret-source-import-0-from') as HTMLSelectElement;
    await fireEvent.change(from, { target: { value: 'env' } });
    await fireEvent.change(from, { target: { value: 'keychain' } });
    await fireEvent.click(screen.getByTestId('import-store-secrets'));
    await fireEvent.click(screen.getByTestId('import-run'));
    await waitFor(() => expect(closed).toBe(1));
    const imp = sent.find((s) => s.cmd === 'import_file')!;
    expect(imp.req.secretSources).toEqual([null, null]);
    expect(imp.req.storeFoundSecrets).toBe(true);
  });
});
