// Screenshots of the built UI (ui/dist) with the demo data of the mock backend, light and dark,
// under the app's CSP: node shots.mjs [out-dir]   (default /tmp/ui-shots); WIDTH=900 for another window width

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cspViolations, launch, openApp, serve } from './harness.mjs';

const OUT = process.argv[2] ?? '/tmp/ui-shots';
const WIDTH = Number(process.env.WIDTH ?? 1440); // the window's inner width
mkdirSync(OUT, { recursive: true });

const GW = 'Accounts API (gateway)';
const PAY = 'Payments — Substantial';

const row = (name) => `[data-testid="profile-row-${name}"]`;
const tid = (id) => `[data-testid="${id}"]`;

/** Each scene starts from a fresh load and ends in the state to photograph. */
const SCENES = {
  dashboard: async () => {},
  'empty-first-run': { config: { kind: 'bulk', n: 0 }, wait: 'add-sandbox', act: async () => {} },
  settings: async (page) => {
    await page.click(tid('nav-settings'));
    await page.waitForSelector(tid('sandbox-running'));
  },
  'token-tab': async (page) => {
    await page.click(row(PAY));
  },
  'inspect-id-token': async (page) => {
    await page.click(row(PAY));
    await page.click(tid('tab-inspect'));
    await page.click(tid('inspect-tab-id_token'));
    await page.waitForSelector(tid('validation'));
  },
  'inspect-gateway': async (page) => {
    await page.click(row(GW));
    await page.click(tid('tab-inspect'));
    await page.waitForSelector(tid('not-jwt'));
    await page.click(tid('introspect-access'));
    await page.waitForSelector(tid('provider-result'));
    await page.locator(tid('raw-fields')).scrollIntoViewIfNeeded();
  },
  history: async (page) => {
    await page.click(row(GW));
    await page.click(tid('tab-history'));
    await page.waitForSelector(tid('history-row'));
  },
  debug: async (page) => {
    await page.click(row(GW));
    await page.click(tid('tab-debug'));
    await page.waitForSelector(tid('exchange-row'));
    await page.locator(tid('exchange-row')).nth(2).click();
    await page.waitForSelector(tid('exchange-detail'));
  },
  'profile-form': async (page) => {
    await page.click(row(PAY));
    await page.click(tid('tab-config'));
    await page.waitForSelector(tid('secret-status'));
  },
  'new-profile-errors': async (page) => {
    await page.click(tid('new-profile'));
    await page.fill(tid('field-scopes'), 'openid bad"scope');
    await page.click(tid('add-headers'));
    await page.fill(tid('field-headers[0].name'), 'x api key');
    await page.click(tid('profile-save'));
    await page.waitForSelector(tid('field-error-name'));
    await page.evaluate(() => document.querySelector('.main')?.scrollTo(0, 0));
  },
  'new-profile-key': async (page) => {
    await page.click(tid('new-profile'));
    await page.fill(tid('field-name'), 'PSD2 accounts (TPP)');
    await page.fill(tid('field-client_id'), 'tpp-7781');
    await page.selectOption(tid('field-auth_method'), 'private_key_jwt');
    await page.selectOption(tid('field-client_assertion.alg'), 'PS256');
    await page.fill(tid('field-client_assertion.kid'), 'tpp-7781-2026');
    await page.check(tid('field-signed_request'));
    await page.fill(tid('field-client_secret'), '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n');
    await page.locator(tid('field-signed_request')).scrollIntoViewIfNeeded();
  },
  'new-profile-psd2': async (page) => {
    await page.click(tid('new-profile'));
    await page.fill(tid('field-name'), 'PSD2 accounts');
    await page.fill(tid('field-client_id'), 'tpp-7781');
    await page.selectOption(tid('field-auth_method'), 'client_secret_post');
    await page.check(tid('field-signed_request'));
    await page.selectOption(tid('field-client_assertion.alg'), 'PS256');
    await page.fill(tid('field-claims'), '{"id_token": {"authorizationId": {"value": "{{authorizationId}}", "essential": true}}}');
    await page.click(tid('step-add'));
    await page.fill(tid('step-0-url'), 'https://sandbox.apis.op.fi/accounts-psd2/v1/authorizations');
    await page.fill(tid('step-0-capture-0-name'), 'authorizationId');
    await page.fill(tid('step-0-capture-0-pointer'), '/authorizationId');
    await page.locator(tid('section-steps')).scrollIntoViewIfNeeded();
  },
  'new-profile-mtls': async (page) => {
    await page.click(tid('new-profile'));
    await page.fill(tid('field-name'), 'PSD2 payments (mTLS)');
    await page.fill(tid('field-client_id'), 'tpp-7781');
    await page.selectOption(tid('field-auth_method'), 'tls_client_auth');
    await page.fill(tid('field-tls_client_cert'), '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ1dJ3jRr2l8dWJ8c7Y9QWQ3iK2owCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n');
    await page.fill(tid('field-tls_key'), '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n');
    await page.locator(tid('field-tls_ca')).scrollIntoViewIfNeeded();
  },
  'sign-in-waiting': async (page) => {
    await page.click(row('Keycloak local'));
    await page.click(tid('sign-in'));
    await page.waitForSelector(tid('login-waiting'));
    await page.click('text=Paste redirect URL instead');
  },
  'copy-menu': async (page) => {
    const card = page.locator(tid(`token-card-${GW}`));
    await card.locator(tid('token-copy')).click();
    await page.click(tid('copy-header'));
    await page.waitForSelector(tid('toast'));
    await card.locator(tid('token-copy')).click();
    await page.waitForSelector(tid('copy-curl'));
  },
};

const only = process.env.SCENES?.split(',');
const server = await serve();
const problems = [];
const written = [];
try {
  for (const scheme of ['light', 'dark']) {
    const browser = await launch({ viewport: { width: WIDTH, height: 900 }, colorScheme: scheme });
    try {
      for (const [name, scene] of Object.entries(SCENES)) {
        if (only && !only.includes(name)) continue;
        const { config, wait, act } =
          typeof scene === 'function' ? { config: { kind: 'demo', latencyMs: 60 }, wait: `token-card-${GW}`, act: scene } : scene;
        const { page, errors } = await openApp(browser.context, server.url, config);
        await page.emulateMedia({ colorScheme: scheme });
        await page.waitForSelector(tid(wait));
        await act(page);
        await page.waitForTimeout(250);
        const file = join(OUT, `${name}-${scheme}.png`);
        await page.screenshot({ path: file });
        written.push(file);
        for (const v of await cspViolations(page)) problems.push(`${name}/${scheme}: CSP ${v}`);
        for (const e of errors) problems.push(`${name}/${scheme}: ${e}`);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
}
console.log(written.join('\n'));
if (problems.length) {
  console.log('problems:\n  ' + problems.join('\n  '));
  process.exitCode = 1;
} else {
  console.log(`${written.length} screenshots, no page errors, no CSP violations`);
}
