// Rich Authorization Requests and CIBA in the app: the details editor checks the JSON as
// typed, adds templates and warns about a type the provider does not list; the granted details
// show beside the asked ones with each difference; a CIBA sign-in shows the binding message
// large, the login hint and the time left, Cancel stops it, and the approval stores the token.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { invoke } from '@tauri-apps/api/core';
import { desk } from '../../lib/desk.svelte';
import { checkDetails } from '../../lib/rar';
import { makeProfile, makeToken } from '../../test/fixtures';
import AuthorizationDetailsEditor from '../AuthorizationDetailsEditor.svelte';
import GetToken from '../GetToken.svelte';
import GrantedDetails from '../GrantedDetails.svelte';

const invokeMock = vi.mocked(invoke);

describe('authorization details editor', () => {
  it('checks the JSON as typed, with the core’s rules', () => {
    expect(checkDetails('').error).toBeNull();
    expect(checkDetails('{"type":"x"}').error).toContain('JSON array');
    expect(checkDetails('[{"actions":["a"]}]').error).toContain('no "type"');
    expect(checkDetails('[{"type":"x","actions":"read"}]').error).toContain('array of strings');
    expect(checkDetails('[{').error).toContain('not JSON');
    expect(checkDetails('[{"type":"a"},{"type":"b"}]')).toEqual({ error: null, types: ['a', 'b'] });
  });

  it('adds templates, names what is wrong, and warns about an unlisted type', async () => {
    render(AuthorizationDetailsEditor, { value: '', supported: ['payment_initiation', 'openid_credential'] });
    const json = screen.getByTestId('rar-json') as HTMLTextAreaElement;
    // The open-banking templates and every type the provider lists are offered.
    expect(screen.getByTestId('rar-add-openid_credential')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('rar-add-payment_initiation'));
    const added = JSON.parse(json.value);
    expect(added[0].type).toBe('payment_initiation');
    expect(added[0].instructedAmount.amount).toBe('12.34');
    expect(added[0].creditorAccount.iban).toMatch(/^DE/);
    expect(screen.queryByTestId('rar-error')).toBeNull();
    expect(screen.queryByTestId('rar-warning')).toBeNull();

    await fireEvent.click(screen.getByTestId('rar-add-account_information'));
    expect(screen.getByTestId('rar-warning').textContent).toContain('"account_information"');

    await fireEvent.input(json, { target: { value: '{"type": "payment_initiation"}' } });
    expect(screen.getByTestId('rar-error').textContent).toContain('JSON array');
  });
});

describe('granted details', () => {
  it('shows a narrowed amount and a dropped type plainly', () => {
    render(GrantedDetails, {
      details: {
        requested: [{ type: 'payment_initiation' }, { type: 'account_information' }],
        granted: [{ type: 'payment_initiation' }],
        differences: [
          {
            kind: 'changed',
            detail_type: 'payment_initiation',
            path: '/instructedAmount/amount',
            requested: '150.00',
            granted: '100.00',
          },
          { kind: 'dropped_type', detail_type: 'account_information' },
        ],
      },
    });
    const diffs = screen.getByTestId('details-differences').textContent ?? '';
    expect(diffs).toContain('/instructedAmount/amount asked 150.00, granted 100.00');
    expect(diffs).toContain('account_information: asked for, not granted (dropped)');
    expect(screen.queryByTestId('details-as-asked')).toBeNull();
    expect(screen.getByTestId('details-granted').textContent).toContain('payment_initiation');
  });

  it('says when the grant is as asked', () => {
    render(GrantedDetails, { details: { requested: [{ type: 'a' }], granted: [{ type: 'a' }], differences: [] } });
    expect(screen.getByTestId('details-as-asked').textContent).toBe('Granted as asked.');
  });
});

describe('CIBA sign-in', () => {
  const profile = makeProfile({ id: 'cb', name: 'Bank CIBA', grant: 'ciba' });
  let resolveWait: (v: unknown) => void = () => {};
  let rejectWait: (e: unknown) => void = () => {};

  beforeEach(() => {
    desk.tokens = [];
    desk.profiles = [profile];
    invokeMock.mockReset();
    invokeMock.mockImplementation(async (cmd: string) => {
      switch (cmd) {
        case 'begin_ciba_login':
          return {
            login_id: 'C1',
            profile_id: 'cb',
            binding_message: 'TD-4711',
            login_hint: 'alice',
            expires_at: Date.now() + 120_000,
            interval: 5,
            mode: 'poll',
            warnings: [],
          };
        case 'wait_device_login':
          return new Promise((resolve, reject) => {
            resolveWait = resolve;
            rejectWait = reject;
          });
        case 'cancel_login':
          rejectWait({ code: 'cancelled', message: 'The sign-in was cancelled.' });
          return null;
      }
      throw { code: 'internal', message: cmd };
    });
  });

  it('shows the binding message, the login hint and the time left, and stores the approved token', async () => {
    render(GetToken, { profile, hasToken: false });
    await fireEvent.input(screen.getByTestId('ciba-login-hint-input'), { target: { value: 'alice' } });
    await fireEvent.click(screen.getByTestId('sign-in'));
    expect((await screen.findByTestId('ciba-binding-message')).textContent).toBe('TD-4711');
    expect(screen.getByTestId('ciba-login-hint').textContent).toBe('alice');
    expect(screen.getByTestId('ciba-expires').textContent).toMatch(/request expires in (1 min 59 s|2 min|1:59|\d)/);
    expect(invokeMock).toHaveBeenCalledWith('begin_ciba_login', {
      id: 'cb',
      options: { login_hint: 'alice', user_code: null },
    });
    expect(invokeMock).toHaveBeenCalledWith('wait_device_login', { loginId: 'C1' });
    resolveWait(makeToken({ profile_id: 'cb', grant: 'ciba' }));
    await vi.waitFor(() => expect(desk.tokens.map((t) => t.profile_id)).toEqual(['cb']));
    expect(screen.queryByTestId('ciba-panel')).toBeNull();
  });

  it('cancels quietly', async () => {
    render(GetToken, { profile, hasToken: false });
    await fireEvent.click(screen.getByTestId('sign-in'));
    await screen.findByTestId('ciba-panel');
    await fireEvent.click(screen.getByTestId('login-cancel'));
    await vi.waitFor(() => expect(screen.getByTestId('sign-in').textContent).toContain('Sign in'));
    expect(invokeMock).toHaveBeenCalledWith('cancel_login', { loginId: 'C1' });
    expect(screen.queryByTestId('error-message')).toBeNull();
  });
});
