// End-to-end: the real TokenDesk app (debug build) under Xvfb, driven over WebDriver through
// tauri-driver + WebKitWebDriver, against a real authorization server (oidc-provider on loopback)
// and a real Secret Service. Run through tests/e2e/run.sh.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { remote } from 'webdriverio';

const root = path.resolve(import.meta.dirname, '../..');
const app = path.join(root, 'target/debug/tokendesk-app');
const cli = path.join(root, 'target/debug/tokendesk');
const shots = process.env.UPDATE_SCREENSHOTS ? path.join(root, 'docs') : path.join(root, 'target/e2e');
const home = mkdtempSync(path.join(tmpdir(), 'tokendesk-e2e-'));
const children = [];
let provider;
let browser;
/** The StatusNotifierWatcher standing in for a desktop panel (tests/e2e/sni-watcher.py): what
 * it reported, one object per line. */
let watcher;
const trayReports = [];

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

async function startProvider(args, attempt = 1) {
  const child = spawn('node', [path.join(root, 'tests/provider/server.mjs'), '--quiet', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  // Not ready within a minute: stuck (Node has been seen to deadlock at start under load).
  // Start it once more rather than hang the run.
  let timer;
  const line = await Promise.race([
    new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
    new Promise((resolve) => (timer = setTimeout(() => resolve(null), 60_000))),
  ]);
  clearTimeout(timer);
  if (line === null) {
    child.kill('SIGKILL');
    if (attempt > 1) throw new Error('the test provider did not start');
    console.error('test provider: not ready after 60 s; starting it again');
    return startProvider(args, attempt + 1);
  }
  return JSON.parse(line);
}

const el = (id) => browser.$(`[data-testid="${id}"]`);

/** Scrolls an element to the middle of the window: at an edge, the profile form's sticky
 * action bar would be in the way of a click. */
async function centre(e) {
  await e.scrollIntoView({ block: 'center', inline: 'nearest' }).catch(() => {});
}

async function click(id) {
  const e = await el(id);
  await e.waitForClickable({ timeout: 20000 });
  await centre(e);
  await e.click();
}

async function type(id, value) {
  const e = await el(id);
  await e.waitForDisplayed({ timeout: 10000 });
  await centre(e);
  await e.clearValue();
  await e.setValue(value);
}

async function text(id) {
  const e = await el(id);
  await e.waitForDisplayed({ timeout: 20000 });
  return (await e.getText()).trim();
}

/** Seconds shown by a countdown (`m:ss`, `h:mm:ss`). */
function seconds(shown) {
  const parts = shown.split(':').map(Number);
  assert.ok(parts.every((n) => Number.isFinite(n)), `a countdown, not "${shown}"`);
  return parts.reduce((acc, n) => acc * 60 + n, 0);
}

function clipboard() {
  try {
    return execFileSync('xclip', ['-o', '-selection', 'clipboard'], { encoding: 'utf8', timeout: 5000 });
  } catch {
    return '';
  }
}

async function screenshot(name) {
  mkdirSync(shots, { recursive: true });
  await browser.saveScreenshot(path.join(shots, `${name}.png`));
}

async function createProfile(fields, secret, more) {
  await click('new-profile');
  await el('profile-form').waitForDisplayed({ timeout: 10000 });
  for (const [key, value] of Object.entries(fields)) {
    const e = await el(`field-${key}`);
    if ((await e.getTagName()) === 'select') {
      await centre(e);
      await e.selectByAttribute('value', value);
    } else {
      await type(`field-${key}`, value);
    }
  }
  if (secret) await type('field-client_secret', secret);
  if (more) await more();
  await click('profile-save');
  await browser.$(`[data-testid="profile-row-${fields.name}"]`).waitForDisplayed({ timeout: 10000 });
}

/** Gets a token on the open profile's view and waits for it (or reports the error shown). */
async function getToken(name) {
  await openProfile(name);
  await click('get-token');
  await browser.waitUntil(
    async () => {
      const err = await el('error-message');
      if (await err.isExisting()) throw new Error(`getting a token for "${name}" failed: ${await err.getText()}`);
      return (await el('countdown-access')).isExisting();
    },
    { timeout: 20000, timeoutMsg: `a token for "${name}"` },
  );
}

async function openProfile(name) {
  await click(`profile-row-${name}`);
  let shown = '';
  await browser.waitUntil(
    async () => {
      const title = await browser.$('#pv-title');
      shown = (await title.isExisting()) ? String(await title.getProperty('textContent')).trim() : '(no title)';
      return shown === name;
    },
    { timeout: 10000, timeoutMsg: `the profile view shows "${name}"` },
  ).catch(() => {
    throw new Error(`the profile view shows "${shown}", not "${name}"`);
  });
}

before(async () => {
  provider = await startProvider(['--access-ttl', '90', '--cc-ttl', '90']);
  const driverPort = await freePort();
  const env = {
    ...process.env,
    TOKENDESK_HOME: home,
    TOKENDESK_SANDBOX_PORT: String(await freePort()),
    // The test provider's login walker, or the sandbox's one-button login (tests/e2e/browser.mjs).
    TOKENDESK_BROWSER: `node ${path.join(root, 'tests/e2e/browser.mjs')}`,
  };
  // The driver (and the app it starts) write to a log file, not to this test's stdout: a process
  // holding that pipe keeps the test runner waiting for its end after the tests are done.
  mkdirSync(path.join(root, 'target/e2e'), { recursive: true });
  const log = openSync(path.join(root, 'target/e2e/tauri-driver.log'), 'w');
  // WebKitWebDriver on a free port too (tauri-driver's default, 4445, is taken when another run
  // goes on beside this one).
  const nativePort = await freePort();
  const driver = spawn('tauri-driver', ['--port', String(driverPort), '--native-port', String(nativePort)], {
    env,
    stdio: ['ignore', log, log],
  });
  children.push(driver);
  await waitForPort(driverPort);
  // A panel's StatusNotifierWatcher on this session bus before the app starts, as on a desktop.
  watcher = spawn('/usr/bin/python3', [path.join(root, 'tests/e2e/sni-watcher.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(watcher);
  const lines = createInterface({ input: watcher.stdout });
  await new Promise((resolve, reject) => {
    lines.on('line', (l) => {
      const r = JSON.parse(l);
      if (r.ready) resolve();
      else trayReports.push(r);
    });
    watcher.once('exit', (code) => reject(new Error(`the StatusNotifierWatcher exited (${code}); is python3-dbus installed?`)));
  });
  browser = await remote({
    hostname: '127.0.0.1',
    port: driverPort,
    logLevel: 'warn',
    capabilities: {
      browserName: 'wry',
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: app },
    },
  });
  await resize(1400, 900).catch(() => {});
});

after(async () => {
  await browser?.deleteSession().catch(() => {});
  for (const c of children) c.kill();
  // An app the driver failed to close would outlive the run: end every process of this home.
  for (const pid of processesOfHome(home)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(home, { recursive: true, force: true });
});

/** Pids of the processes whose environment has TOKENDESK_HOME=home. */
function processesOfHome(dir) {
  const mark = `TOKENDESK_HOME=${dir}`;
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) return false;
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(mark);
    } catch {
      return false;
    }
  });
}

test('the prerendered first frame gives way to the app: one shell, nothing inert', async () => {
  await el('add-sandbox-main').waitForDisplayed({ timeout: 20000 });
  const page = await browser.execute(() => ({
    loader: [...document.scripts].some((s) => /first-frame-[0-9a-f]+\.js$/.test(s.src)),
    shells: document.querySelectorAll('.app').length,
    inert: document.querySelectorAll('[inert]').length,
  }));
  // The page came with its first frame and the loader that starts the scripts (ui/build/firstFrame.ts).
  assert.ok(page.loader, 'index.html starts the app from the first-frame loader');
  // The app replaced the prerendered frame instead of drawing beside it.
  assert.equal(page.shells, 1, 'one app shell on the page');
  assert.equal(page.inert, 0, 'nothing left inert');
});

test('first launch offers the sandbox profiles, and they work', async () => {
  await click('add-sandbox-main');
  await el('profile-row-Sandbox · client credentials').waitForDisplayed({ timeout: 20000 });
  await getToken('Sandbox · client credentials');
  // The gateway-style sandbox sends refresh_token_expires_in as a string: its own countdown.
  await getToken('Sandbox gateway · client credentials');
  await click('nav-dashboard');
  await el('token-card-Sandbox · client credentials').waitForDisplayed({ timeout: 20000 });
  const gateway = 'token-card-Sandbox gateway · client credentials';
  await el(gateway).waitForDisplayed({ timeout: 20000 });
  const refresh = await browser.$(`[data-testid="${gateway}"] [data-testid="countdown-refresh"]`);
  const left = seconds((await refresh.getText()).trim());
  assert.ok(left > 800 && left <= 901, `the gateway refresh token's 900 s show as ${left} s`);
  // Two refreshes: the gateway counts them and rotates the refresh token each time.
  for (let n = 1; n <= 2; n++) {
    await browser.$(`[data-testid="${gateway}"] [data-testid="token-refresh"]`).click();
    const count = await browser.$(`[data-testid="${gateway}"] [data-testid="refresh-count"]`);
    await browser.waitUntil(async () => (await count.getText()).trim() === String(n), {
      timeout: 15000,
      timeoutMsg: `refresh_count ${n} is shown`,
    });
  }
  await openProfile('Sandbox gateway · client credentials');
  await click('tab-history');
  await browser.waitUntil(async () => (await browser.$$('[data-testid="history-row"]')).length === 3, {
    timeout: 10000,
    timeoutMsg: 'three history rows: the first token and two refreshes',
  });
  const rows = await browser.$$('[data-testid="history-row"]');
  assert.match(await rows[0].getText(), /refresh_token[\s\S]*2 · rotated/);
  assert.match(await rows[2].getText(), /acquisition[\s\S]*client_credentials/);
  await screenshot('history');
});

test('the sandbox bank: the PSD2 profile pair signs in with one click', async () => {
  // Added on first launch (previous test): the consent step takes the sibling's token, the
  // signed request carries the authorizationId, the hybrid answer is checked before redemption.
  const name = 'Sandbox bank · PSD2 accounts';
  await openProfile(name);
  await click('sign-in');
  await click('nav-dashboard');
  const card = `token-card-${name}`;
  await el(card).waitForDisplayed({ timeout: 30000 }).catch(async (e) => {
    await openProfile(name);
    const err = await el('error-message');
    throw new Error((await err.isExisting()) ? `the sandbox bank sign-in failed: ${await err.getText()}` : e.message);
  });
  await browser.$(`[data-testid="${card}"] [data-testid="inspect"]`).click();
  await click('inspect-tab-id_token');
  const validation = await text('validation');
  for (const check of ['signature', 'nonce', 'authorizationId', 'acr']) assert.match(validation, new RegExp(check));
  assert.doesNotMatch(validation, /fail/i, 'every ID token check passes');
  await screenshot('sandbox-bank');
});

/** Problems of layout in the elements `selector` finds: a box that scrolls sideways, or a
 * descendant that leaves it (text inside a box that scrolls on purpose, like a URL input, is not
 * measured); and a page that scrolls sideways. */
function layoutProblems(selector) {
  return browser.execute((sel) => {
    const out = [];
    const name = (e) => e.dataset?.testid ?? `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`;
    const page = document.scrollingElement;
    if (page.scrollWidth > page.clientWidth + 1) out.push(`the page scrolls sideways (${page.scrollWidth} > ${page.clientWidth})`);
    for (const box of document.querySelectorAll(sel)) {
      const r = box.getBoundingClientRect();
      if (box.scrollWidth > box.clientWidth + 1) out.push(`${name(box)} scrolls sideways (${box.scrollWidth} > ${box.clientWidth})`);
      if (r.right > window.innerWidth + 1) out.push(`${name(box)} ends at ${Math.round(r.right)}, past the window (${window.innerWidth})`);
      for (const e of box.querySelectorAll('*')) {
        if (e.closest('input, textarea, select, option')) continue;
        const er = e.getBoundingClientRect();
        if (er.width > 1 && (er.left < r.left - 1 || er.right > r.right + 1)) {
          out.push(`${name(e)} "${(e.textContent ?? '').trim().slice(0, 40)}" at ${Math.round(er.left)}–${Math.round(er.right)} leaves ${name(box)} at ${Math.round(r.left)}–${Math.round(r.right)}`);
        }
      }
    }
    return out;
  }, selector);
}

test('Try it: the sandbox bank\'s accounts API with the signed-in token; a curl line without it; a refused token', async () => {
  // Signed in by the previous test. Its API URL is the sandbox bank's accounts endpoint, which
  // answers only a token issued for the registered consent (with the profile's x-api-key).
  const name = 'Sandbox bank · PSD2 accounts';
  await openProfile(name);
  await click('tab-try');
  const url = await el('try-url');
  await url.waitForDisplayed({ timeout: 10000 });
  const api = await url.getValue();
  assert.match(api, /^http:\/\/127\.0\.0\.1:\d+\/bank\/accounts-psd2\/v1\/accounts$/, `the profile's API URL is the default: ${api}`);
  await click('try-send');
  assert.equal(await text('try-status'), '200', 'the accounts endpoint accepts the consented token');
  assert.match(await text('try-time'), /^\d+ ms$/);
  // Pretty-printed JSON, in the open "Body" fold: one member a line, indented.
  const body = await text('try-body-view');
  assert.match(body, /^\{\n {2}"accounts": \[\n {4}\{\n/, `pretty-printed: ${body.slice(0, 80)}`);
  assert.match(body, /"iban": "FI00 0000 0000 0000 00"/);
  assert.match(body, /"authorizationId": "[0-9a-f-]{36}"/, "the consent's authorizationId comes back");
  assert.ok(await browser.$('[data-testid="try-response"] details[open] [data-testid="try-body-view"]').isDisplayed(), 'the body is in an open fold');
  assert.equal(await browser.$('[data-testid="try-challenge"]').isExisting(), false, 'no challenge on a 200');

  // The last request, copied as curl: `$(tokendesk token …)` stands where the token would be.
  const cliEnv = { ...process.env, TOKENDESK_HOME: home, PATH: `${path.dirname(cli)}:${process.env.PATH}` };
  const token = execFileSync(cli, ['token', name], { env: cliEnv, encoding: 'utf8' }).trim();
  assert.ok(token.length > 20, 'the CLI gives the current token');
  const row = await el('try-recent');
  await row.waitForDisplayed({ timeout: 10000 });
  // (textContent: WebKit's WebDriver leaves an ellipsized cell out of the visible text.)
  assert.match(String(await row.getProperty('textContent')), /GET[\s\S]*accounts-psd2\/v1\/accounts[\s\S]*200/);
  await click('try-copy-curl');
  await browser.waitUntil(async () => clipboard().startsWith('curl '), { timeout: 10000, timeoutMsg: 'the curl line is on the clipboard' });
  const line = clipboard();
  assert.ok(!line.includes(token), 'the curl line holds no token value');
  assert.ok(!line.includes('<redacted>'), 'nor a redacted placeholder');
  assert.ok(line.includes(`"Authorization: Bearer $(tokendesk token '${name}')"`), `the token is fetched when it runs: ${line}`);
  assert.match(line, /-H 'x-api-key: [^']+'/, "the profile's API key header comes along");
  assert.ok(!(await browser.getPageSource()).includes(token), 'the token is nowhere in the page');
  // And the line works when a person runs it.
  const ran = execFileSync('sh', ['-c', `${line} -s -w '\\n%{http_code}'`], { env: cliEnv, encoding: 'utf8', timeout: 15000 });
  assert.match(ran, /"iban"[\s\S]*\n200$/, `the copied line gets the accounts: ${ran.slice(-200)}`);

  // The panel at the app's default window size, then the narrowest: nothing runs out sideways, a
  // long URL included (it ellipsizes in the answer and in the last requests).
  const conf = JSON.parse(readFileSync(path.join(root, 'src-tauri/tauri.conf.json'), 'utf8')).app.windows[0];
  await resize(conf.width, conf.height);
  const panels = '[data-testid="try-response"], form.request, .panel.recent';
  let problems = [];
  await browser.waitUntil(async () => (problems = await layoutProblems(panels)).length === 0, { timeout: 3000, interval: 200 }).catch(() => {});
  assert.deepEqual(problems, [], `at ${conf.width}×${conf.height}`);
  await screenshot('try-it');
  await type('try-url', `${api}?fields=${'iban,name,balances,'.repeat(20)}currency&from=2026-01-01&to=2026-12-31`);
  await click('try-send');
  await browser.waitUntil(async () => String(await (await el('try-response-url')).getProperty('textContent')).includes('fields='), { timeout: 15000, timeoutMsg: 'the long URL was sent' });
  for (const [width, height] of [[conf.width, conf.height], [conf.minWidth, conf.minHeight ?? conf.height]]) {
    await resize(width, height);
    await browser.waitUntil(async () => (problems = await layoutProblems(panels)).length === 0, { timeout: 3000, interval: 200 }).catch(() => {});
    assert.deepEqual(problems, [], `a long URL at ${width}×${height}`);
  }
  await resize(1400, 900);

  // A refused token: the sandbox's standard issuer does not know the bank's tokens (Bearer
  // invalid_token). The core renews the token once, is refused again, and stops; the panel
  // shows the decoded challenge, says so, and offers another refresh and retry.
  // Refreshes of the profile, from its history (read by the command line: the panel keeps its
  // state while it is counted).
  const refreshes = () =>
    execFileSync(cli, ['history', name, '--limit', '100'], { env: cliEnv, encoding: 'utf8' })
      .split('\n')
      .filter((l) => /\bmanual\b.*refresh token/.test(l)).length;
  const before = refreshes();
  const foreign = api.replace(/\/bank\/accounts-psd2\/v1\/accounts$/, '/standard/userinfo');
  await type('try-url', foreign);
  await click('try-send');
  await browser.waitUntil(async () => (await el('try-status').isExisting()) && (await text('try-status')) === '401', {
    timeout: 20000,
    timeoutMsg: 'the 401 is shown',
  });
  assert.equal(await text('try-challenge-error'), 'invalid_token');
  const challenge = await text('try-challenge');
  assert.match(challenge, /Bearer/);
  assert.match(challenge, /unknown, expired or revoked/, `the error_description is decoded: ${challenge}`);
  assert.ok(await el('try-refreshed').isDisplayed(), 'the token was renewed once');
  assert.match(await text('try-still-refused'), /not tried again/);
  await browser.saveScreenshot(path.join(root, 'target/e2e/try-it-401.png'));
  const afterFirst = refreshes();
  assert.equal(afterFirst, before + 1, 'one renewal, not a loop');
  // The button refreshes first, then sends (and the request, refused again, renews once more).
  await click('try-refresh-retry');
  await browser.waitUntil(async () => refreshes() === afterFirst + 2, {
    timeout: 20000,
    timeoutMsg: 'Refresh token and retry renewed the token, then the request renewed it once more',
  }).catch((e) => {
    throw new Error(`${e.message}: ${refreshes()} refreshes, ${afterFirst} before`);
  });
  await browser.waitUntil(async () => (await el('try-send').isEnabled()), { timeout: 20000, timeoutMsg: 'the retry is done' });
  assert.equal(await text('try-status'), '401');
  assert.equal(refreshes(), afterFirst + 2, 'and no more');
});

test('the sandbox FAPI 2.0 profile: PAR, private_key_jwt, a DPoP-bound token', async () => {
  // Added on first launch: the request pushed with an assertion for the issuer, the code and the
  // tokens bound to the profile's DPoP key, the nonces the sandbox asks for answered.
  const name = 'Sandbox FAPI 2.0';
  await openProfile(name);
  await click('sign-in');
  await browser.waitUntil(
    async () => {
      const err = await el('error-message');
      if (await err.isExisting()) throw new Error(`the sandbox FAPI sign-in failed: ${await err.getText()}`);
      return (await el('dpop-binding')).isExisting();
    },
    { timeout: 30000, timeoutMsg: 'the token view shows the DPoP binding' },
  );
  const binding = await text('dpop-binding');
  assert.match(binding, /DPoP key [A-Za-z0-9_-]{43}/, `the key's thumbprint is shown: ${binding}`);
  const details = await browser.$('[data-testid="dpop-binding"]').$('..');
  assert.match(await details.getText(), /\bDPoP\b[\s\S]*Bound to/, 'token_type DPoP, then the binding');
  await screenshot('sandbox-fapi');
  // The copied curl line carries a fresh proof for the profile's API URL, and the sandbox (which
  // checks htm, htu, ath, the nonce and the key) accepts it when a person runs it.
  await click('token-copy');
  await click('copy-curl');
  await browser.waitUntil(async () => clipboard().startsWith('curl '), {
    timeout: 10000,
    timeoutMsg: 'the curl line is on the clipboard',
  });
  const line = clipboard();
  assert.match(line, /-H 'Authorization: DPoP [^']+' -H 'DPoP: ey/, `a DPoP curl line: ${line.slice(0, 80)}`);
  const answer = execFileSync('sh', ['-c', `${line} -s -w '\\n%{http_code}'`], { encoding: 'utf8', timeout: 15000 });
  assert.match(answer, /\n200$/, `the provider accepts the copied line: ${answer.slice(-200)}`);
});

test('Check setup on the sandbox FAPI 2.0 profile: every layer checked, nothing fails, the checklist fits', async () => {
  const name = 'Sandbox FAPI 2.0';
  await openProfile(name);
  await click('tab-check');
  await click('setup-check-run');
  await el('setup-check-summary').waitForDisplayed({ timeout: 30000 }).catch(async (e) => {
    const err = await el('error-message');
    throw new Error((await err.isExisting()) ? `the check did not run: ${await err.getText()}` : e.message);
  });
  const summary = await text('setup-check-summary');
  assert.match(summary, /\b0 failed\b/, `no check fails: ${summary}`);
  for (const id of ['provider:discovery', 'provider:clock', 'client:authentication', 'client:redirect', 'provider:dpop', 'provider:par']) {
    const row = await browser.$(`[data-testid="check-${id}"]`);
    assert.ok(await row.isExisting(), `a ${id} row`);
    assert.equal(await row.getAttribute('data-status'), 'pass', `${id} passes: ${await row.getText()}`);
  }
  const network = await browser.$$('[data-testid^="check-network:"]');
  assert.ok(network.length >= 1, 'a network row per origin');
  // Open one row: what was seen, and the exchanges the check made.
  await browser.$('[data-testid="check-client:authentication"] button').click();
  const detail = await browser.$('[data-testid="check-client:authentication"]').getText();
  assert.match(detail, /POST http:\/\/127\.0\.0\.1:\d+\/fapi\/token/, `the probe's exchange: ${detail}`);
  const fits = await browser.execute(() => {
    const box = document.querySelector('[data-testid="setup-check"]');
    return box.scrollWidth <= box.clientWidth + 1 && document.documentElement.scrollWidth <= window.innerWidth + 1;
  });
  assert.ok(fits, 'the checklist does not scroll sideways');
  await screenshot('setup-check');
  // The same check from the profile form, before saving: the form's settings with the stored
  // secrets (none typed); a changed client id is what gets checked, and nothing is saved.
  await click('tab-config');
  await type('field-client_id', 'nobody-registered-this');
  await click('form-check-run');
  await el('form-check-summary').waitForDisplayed({ timeout: 30000 });
  assert.match(await text('form-check-summary'), /\b[1-9]\d* failed\b/, 'an unknown client id fails a check');
  await click('tab-check');
  await click('setup-check-run');
  await el('setup-check-summary').waitForDisplayed({ timeout: 30000 });
  assert.match(await text('setup-check-summary'), /\b0 failed\b/, 'the saved profile is unchanged');
});

test('the history of a signed-in sandbox profile is a timeline of its tokens, linked to the exchange log', async () => {
  const name = 'Sandbox · sign-in (authorization code)';
  const signIn = async () => {
    await openProfile(name);
    await click('tab-token');
    await click('sign-in');
    await el('countdown-access').waitForDisplayed({ timeout: 30000 });
  };
  const rows = async (n, what) =>
    browser.waitUntil(async () => (await browser.$$('[data-testid="history-row"]')).length === n, {
      timeout: 20000,
      timeoutMsg: what,
    });
  // A sign-in, a refresh, a second sign-in: two token lives, the first replaced by the second.
  await signIn();
  await click('nav-dashboard');
  await browser.$(`[data-testid="token-card-${name}"] [data-testid="token-refresh"]`).click();
  await openProfile(name);
  await click('tab-history');
  await rows(2, 'the sign-in and the refresh are in the history');
  await signIn();
  await click('tab-history');
  await rows(3, 'the second sign-in is in the history');

  const attrs = async (id, name) => {
    const out = [];
    for (const e of await browser.$$(`[data-testid="${id}"]`)) out.push(await e.getAttribute(name));
    return out;
  };
  const kinds = await attrs('timeline-mark', 'data-kind');
  assert.deepEqual(kinds, ['acquisition', 'refresh', 'acquisition'], 'one mark per event, oldest first');
  const endings = await attrs('timeline-life', 'data-ending');
  assert.deepEqual(endings, ['replaced', 'live'], 'the first token was replaced, the second is valid');

  // At a 1280 px window the table fits without sideways scrolling.
  await resize(1280, 900);
  await browser.waitUntil(async () => (await browser.execute(() => window.innerWidth)) <= 1280, { timeout: 5000 });
  const fit = await browser.execute(() => {
    const t = document.querySelector('[data-testid="history"]');
    const main = document.getElementById('main');
    return { table: [t.scrollWidth, t.parentElement.clientWidth], page: [main.scrollWidth, main.clientWidth] };
  });
  assert.ok(fit.table[0] <= fit.table[1], `the history table fits its panel at 1280 px: ${fit.table}`);
  assert.ok(fit.page[0] <= fit.page[1], `the history does not scroll sideways at 1280 px: ${fit.page}`);

  // The refresh mark, focused (WebKitWebDriver moves no pointer onto SVG), shows its details as
  // on hover; the screenshot shows them.
  const refresh = await browser.$('[data-testid="timeline-mark"][data-kind="refresh"]');
  await browser.execute((m) => m.focus(), refresh);
  assert.match(await text('timeline-tip'), /refresh \(refresh token\)[\s\S]*ok/);
  await screenshot('history-timeline');

  // Enter (like a click) opens its entry in the exchange log: the refresh's token request.
  const exchangeId = await refresh.getAttribute('data-exchange');
  assert.match(exchangeId, /^\d+$/, 'the refresh links to an exchange');
  await browser.keys(['Enter']);
  const entry = await browser.$(`[data-exchange-id="${exchangeId}"]`);
  await entry.waitForDisplayed({ timeout: 10000 });
  assert.match(await entry.getText(), /token:refresh_token[\s\S]*request[\s\S]*grant_type=refresh_token/i);
  await resize(1400, 900);
});

test('a client-credentials profile against a real provider: token, countdown, refresh, history', async () => {
  await createProfile(
    { name: 'cc-basic', environment: 'test', grant: 'client_credentials', issuer: provider.issuer, client_id: 'cc-basic', scopes: 'api:read' },
    'cc-basic-secret',
  );
  await getToken('cc-basic');
  await click('nav-dashboard');
  const card = 'token-card-cc-basic';
  await el(card).waitForDisplayed({ timeout: 20000 });
  const countdown = await browser.$(`[data-testid="${card}"] [data-testid="countdown-access"]`);
  const first = seconds((await countdown.getText()).trim());
  assert.ok(first > 60 && first <= 91, `a fresh 90 s token shows ${first} s`);
  await browser.pause(2500);
  const later = seconds((await countdown.getText()).trim());
  assert.ok(later < first, `the countdown ticks down (${first} → ${later})`);

  await browser.$(`[data-testid="${card}"] [data-testid="token-refresh"]`).click();
  await browser.waitUntil(async () => seconds((await countdown.getText()).trim()) > later, {
    timeout: 20000,
    timeoutMsg: 'a refreshed token restarts the countdown',
  });
  await openProfile('cc-basic');
  await click('tab-history');
  await browser.waitUntil(async () => (await browser.$$('[data-testid="history-row"]')).length >= 1, {
    timeout: 20000,
    timeoutMsg: 'the manual refresh appears in the history',
  });
  const row = await (await browser.$$('[data-testid="history-row"]'))[0].getText();
  assert.match(row, /manual/i);
});

test('copy the Authorization header; the clipboard is cleared after the timeout', async () => {
  await click('nav-settings');
  await type('field-clipboard_clear_secs', '3');
  await click('settings-save');
  await click('nav-dashboard');
  const card = 'token-card-cc-basic';
  await browser.$(`[data-testid="${card}"] [data-testid="token-copy"]`).click();
  await click('copy-header');
  await browser.waitUntil(
    async () => {
      for (const t of await browser.$$('[data-testid="toast"]')) {
        if (/Copied — clipboard clears in 3 s/.test(await t.getText())) return true;
      }
      return false;
    },
    { timeout: 10000, timeoutMsg: 'a toast confirms the copy and says when the clipboard clears' },
  );
  const copied = clipboard();
  // The command line reads the same store and keychain: it returns the very token the app holds.
  const token = execFileSync(cli, ['token', 'cc-basic'], { env: { ...process.env, TOKENDESK_HOME: home, TOKENDESK_NO_AGENT: '1' }, encoding: 'utf8' }).trim();
  assert.equal(copied, `Authorization: Bearer ${token}`);
  // While the app runs, it answers the command line from memory: with the Secret Service out of
  // reach (a bus address that leads nowhere), only the app can have served this.
  const served = execFileSync(cli, ['token', 'cc-basic', '--header'], {
    env: { ...process.env, TOKENDESK_HOME: home, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
    encoding: 'utf8',
  }).trim();
  assert.equal(served, copied);
  await browser.pause(4500);
  assert.equal(clipboard(), '', 'the clipboard no longer holds the token');
});

test('sign in with the authorization code flow; inspect the ID token', async () => {
  await createProfile(
    { name: 'web-app', environment: 'test', grant: 'authorization_code', issuer: provider.issuer, client_id: 'web-app', scopes: 'openid profile email offline_access' },
    'web-app-secret',
  );
  await openProfile('web-app');
  await click('sign-in');
  // TOKENDESK_BROWSER walks the provider's pages and lands on the app's loopback listener.
  await click('nav-dashboard');
  const card = 'token-card-web-app';
  await el(card).waitForDisplayed({ timeout: 30000 });
  // oidc-provider does not say when its refresh tokens expire.
  const refresh = await browser.$(`[data-testid="${card}"] [data-testid="countdown-refresh"]`);
  assert.equal((await refresh.getText()).trim(), 'no expiry');
  await screenshot('dashboard');

  await browser.$(`[data-testid="${card}"] [data-testid="inspect"]`).click();
  await click('inspect-tab-id_token');
  const validation = await text('validation');
  for (const check of ['signature', 'iss', 'aud', 'exp', 'nonce']) assert.match(validation, new RegExp(check));
  assert.doesNotMatch(validation, /fail/i, 'every ID token check passes');
  assert.match(await text('jwt-claims'), /"aud": "web-app"/);
  const preview = await text('token-preview');
  assert.ok(preview.includes('…'), 'the value is masked until revealed');
  await screenshot('inspector');
});

test('a private_key_jwt profile: the key pasted into the form, a token from the real provider', async () => {
  await createProfile(
    {
      name: 'psd2-tpp',
      environment: 'test',
      grant: 'client_credentials',
      issuer: provider.issuer,
      client_id: 'cc-jwt-ec',
      scopes: 'api:read',
      auth_method: 'private_key_jwt',
      'client_assertion.alg': 'ES256',
      'client_assertion.kid': 'cc-jwt-ec',
    },
    provider.client_keys['cc-jwt-ec'],
  );
  await getToken('psd2-tpp');
  // The provider verified the assertion against the registered public key; the key itself is
  // in the keychain, shown nowhere.
  await click('tab-config');
  assert.equal(await text('secret-status'), 'stored');
  assert.ok(!(await browser.getPageSource()).includes('PRIVATE KEY'), 'the key is not in the page');
});

test('PSD2: a consent step with a sibling\'s token, a signed hybrid sign-in, the consent in the ID token', async () => {
  const header = async (list, i, name, value) => {
    await click(`add-${list}`);
    await type(`field-${list}[${i}].name`, name);
    await type(`field-${list}[${i}].value`, value);
  };
  const psd2 = { environment: 'psd2', issuer: provider.issuer, client_id: 'psd2-tpp', auth_method: 'client_secret_post' };
  await createProfile({ name: 'psd2 cc', ...psd2, grant: 'client_credentials', scopes: 'accounts' }, 'psd2-tpp-secret', () =>
    header('headers', 0, 'x-api-key', 'psd2-tpp'),
  );
  await createProfile(
    { name: 'psd2 accounts', ...psd2, grant: 'authorization_code', scopes: 'openid accounts' },
    'psd2-tpp-secret',
    async () => {
      await click('field-signed_request');
      await el('field-client_assertion.alg').then(async (e) => {
        await centre(e);
        await e.selectByAttribute('value', 'PS256');
      });
      await type('field-client_assertion.kid', 'psd2-tpp-rsa');
      await type('field-signing_key', provider.client_keys['psd2-tpp']);
      await header('authorize_params', 0, 'response_type', 'code id_token');
      await header('headers', 0, 'x-api-key', 'psd2-tpp');
      await type(
        'field-claims',
        '{"id_token": {"authorizationId": {"value": "{{authorizationId}}", "essential": true}}, "userinfo": {"authorizationId": {"value": "{{authorizationId}}", "essential": true}}}',
      );
      await click('step-add');
      await type('step-0-url', `${provider.issuer}/accounts-psd2/v1/authorizations`);
      await el('step-0-token-from').then(async (e) => {
        await centre(e);
        await e.selectByAttribute('value', 'psd2 cc');
      });
      await type('step-0-body', '{"expires": "{{now_iso+90d}}", "transactionFrom": "{{date-90d}}", "transactionTo": "{{date}}"}');
      await type('step-0-capture-0-name', 'authorizationId');
      await type('step-0-capture-0-pointer', '/authorizationId');
      await screenshot('psd2-profile-form');
    },
  );
  await openProfile('psd2 accounts');
  await click('sign-in');
  await click('nav-dashboard');
  const card = 'token-card-psd2 accounts';
  await el(card).waitForDisplayed({ timeout: 30000 }).catch(async (e) => {
    await openProfile('psd2 accounts');
    const err = await el('error-message');
    throw new Error((await err.isExisting()) ? `the PSD2 sign-in failed: ${await err.getText()}` : e.message);
  });
  await browser.$(`[data-testid="${card}"] [data-testid="inspect"]`).click();
  await click('inspect-tab-id_token');
  const validation = await text('validation');
  for (const check of ['signature', 'nonce', 'authorizationId']) assert.match(validation, new RegExp(check));
  assert.doesNotMatch(validation, /fail/i, 'every ID token check passes');
  assert.match(await text('jwt-claims'), /"authorizationId": "[0-9a-f-]{36}"/);
  // The exchange log shows the consent step, the front-channel checks and then the code exchange.
  await click('tab-debug');
  await el('exchange-row').waitForDisplayed({ timeout: 10000 });
  const log = await browser.getPageSource();
  assert.match(log, /accounts-psd2\/v1\/authorizations/);
  const statuses = [];
  for (const e of await browser.$$('[data-testid="exchange-status"]')) statuses.push((await e.getText()).trim());
  // (The inspector's re-check fetched the JWKS once more afterwards.)
  assert.deepEqual(
    statuses.slice(0, 7),
    ['200', '201', '200', 'passed', '200', '200', 'passed'],
    'discovery, the consent, the front-channel checks, the code exchange, the token endpoint ID token checks',
  );
  assert.ok(!(await browser.getPageSource()).includes('PRIVATE KEY'), 'the key is not in the page');
  await screenshot('psd2-signed-in');
});

test('a device sign-in: the code, the address and a QR code; approved on the other device', async () => {
  await createProfile({
    name: 'tv', environment: 'test', grant: 'device_code', issuer: provider.issuer, client_id: 'device-public',
    auth_method: 'none', scopes: 'openid profile offline_access',
  });
  await openProfile('tv');
  await click('sign-in');
  const code = await text('device-user-code');
  assert.match(code, /^[A-Z]{4}-[A-Z]{4}$/, `the user code is shown: "${code}"`);
  const address = await text('device-verification-uri');
  assert.equal(address, `${provider.issuer}/device`);
  const qr = await el('device-qr');
  assert.ok(await qr.isDisplayed(), 'the QR code is drawn');
  assert.ok(await browser.execute((e) => e.complete && e.naturalWidth > 0, qr), 'the QR image loaded (CSP allows it)');
  const size = await qr.getSize();
  assert.ok(size.width >= 120 && size.height >= 120, `the QR code is large enough to scan: ${JSON.stringify(size)}`);
  const left = await text('device-expires');
  assert.match(left, /code expires in (9|10):\d\d/, `a countdown to the code's expiry: "${left}"`);
  await screenshot('device-sign-in');
  // The other device: tests/provider/device.mjs enters the code, signs in and consents.
  execFileSync('node', [path.join(root, 'tests/provider/device.mjs'), address, code], { encoding: 'utf8', timeout: 30000 });
  await click('nav-dashboard');
  await el('token-card-tv').waitForDisplayed({ timeout: 30000 }).catch(async (e) => {
    await openProfile('tv');
    const err = await el('error-message');
    throw new Error((await err.isExisting()) ? `the device sign-in failed: ${await err.getText()}` : e.message);
  });
  await browser.$('[data-testid="token-card-tv"] [data-testid="inspect"]').click();
  await click('inspect-tab-id_token');
  assert.doesNotMatch(await text('validation'), /fail/i, 'the ID token of a device sign-in is checked');
});

test('a CIBA sign-in: the waiting view shows the binding message and ends when the phone approves', async () => {
  await createProfile(
    {
      name: 'bank-ciba', environment: 'test', grant: 'ciba', issuer: provider.issuer, client_id: 'ciba-app',
      auth_method: 'client_secret_basic', scopes: 'openid offline_access',
      'ciba.login_hint': 'alice', 'ciba.binding_message': 'TD-4711',
    },
    'ciba-app-secret',
  );
  await openProfile('bank-ciba');
  await click('sign-in');
  assert.equal(await text('ciba-binding-message'), 'TD-4711', 'the binding message is shown');
  assert.equal(await text('ciba-login-hint'), 'alice');
  const left = await text('ciba-expires');
  assert.match(left, /request expires in (9|10):\d\d/, `a countdown to the request's expiry: "${left}"`);
  const size = await (await el('ciba-binding-message')).getSize();
  assert.ok(size.height >= 40, `the binding message is shown large: ${JSON.stringify(size)}`);
  // The phone: the provider's pending request shows the same binding message.
  const pending = await (await fetch(`${provider.issuer}/test/ciba/pending?login_hint=alice`)).json();
  assert.equal(pending[0]?.binding_message, 'TD-4711');
  await screenshot('ciba-waiting');
  const approved = await fetch(`${provider.issuer}/test/ciba/approve?login_hint=alice`, { method: 'POST' });
  assert.equal(approved.status, 200);
  await click('nav-dashboard');
  await el('token-card-bank-ciba').waitForDisplayed({ timeout: 30000 }).catch(async (e) => {
    await openProfile('bank-ciba');
    const err = await el('error-message');
    throw new Error((await err.isExisting()) ? `the CIBA sign-in failed: ${await err.getText()}` : e.message);
  });
});

test('a profile from a provider preset: search, what it sends and why, a bad parameter named, the profile made', async () => {
  await click('new-profile');
  await el('profile-form').waitForDisplayed({ timeout: 10000 });
  await type('field-client_id', 'Iv1.0123456789abcdef');
  await click('preset-open');
  await type('preset-search', 'github');
  await click('preset-github');
  const sends = await text('preset-sends');
  assert.match(sends, /Accept: application\/json/, `what it sends: ${sends}`);
  assert.match(sends, /form-encoded unless asked for JSON/, 'and why');
  await screenshot('preset-picker');
  // A base URL that is neither https nor loopback is refused before anything is stored.
  await type('preset-param-base_url', 'http://github.corp.example');
  await click('preset-apply');
  const refused = await text('preset-param-error-base_url');
  assert.match(refused, /loopback/, refused);
  await type('preset-param-base_url', 'https://github.com');
  await click('preset-apply');
  await browser.waitUntil(
    async () => (await (await el('field-endpoints.token')).getValue()) === 'https://github.com/login/oauth/access_token',
    { timeout: 10000, timeoutMsg: "the preset's token endpoint in the form" },
  );
  assert.equal(await (await el('field-client_id')).getValue(), 'Iv1.0123456789abcdef', 'the client id typed first stays');
  await type('field-name', 'gh-preset');
  await click('profile-save');
  await browser.$('[data-testid="profile-row-gh-preset"]').waitForDisplayed({ timeout: 10000 });
  const env = { ...process.env, TOKENDESK_HOME: home };
  const shown = JSON.parse(execFileSync(cli, ['profile', 'show', 'gh-preset'], { env, encoding: 'utf8' }));
  assert.equal(shown.preset?.id, 'github', 'the profile keeps its preset');
  assert.equal(shown.endpoints.device_authorization, 'https://github.com/login/device/code');
  assert.equal(shown.client_id, 'Iv1.0123456789abcdef');
});

test('token rows fit the window: default size and the narrowest one', async () => {
  await click('nav-dashboard');
  await el('token-card-web-app').waitForDisplayed({ timeout: 20000 });
  const conf = JSON.parse(readFileSync(path.join(root, 'src-tauri/tauri.conf.json'), 'utf8')).app.windows[0];
  for (const [width, height] of [
    [conf.width, conf.height],
    [1100, conf.height],
    [conf.minWidth, conf.minHeight ?? conf.height],
  ]) {
    await resize(width, height);
    // Each cell lies inside its row, everything in a cell inside that cell (a countdown running
    // into the next cell is caught too), and no row scrolls sideways — once the layout has
    // settled after the resize (a row measured mid-reflow reads wider than it is).
    const measure = () => browser.execute(() => {
      const out = [];
      const name = (e) => e.dataset.testid ?? `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`;
      const outside = (r, box) => r.width > 1 && (r.left < box.left - 1 || r.right > box.right + 1);
      for (const row of document.querySelectorAll('[data-testid^="token-card-"]')) {
        const rowBox = row.getBoundingClientRect();
        if (row.scrollWidth > row.clientWidth + 1) {
          const wide = [...row.querySelectorAll('*')]
            .filter((e) => e.getBoundingClientRect().right > rowBox.right + 1)
            .map((e) => `${name(e)} "${(e.textContent ?? '').trim().slice(0, 60)}"`)
            .slice(0, 3);
          out.push(`${name(row)} scrolls sideways (${row.scrollWidth} > ${row.clientWidth}; ${wide.join(', ')})`);
        }
        for (const cell of row.children) {
          const box = cell.getBoundingClientRect();
          if (outside(box, rowBox)) out.push(`${name(row)}: cell ${name(cell)} leaves the row`);
          for (const e of cell.querySelectorAll('*')) {
            const r = e.getBoundingClientRect();
            if (outside(r, box)) {
              out.push(`${name(row)}: ${name(e)} at ${Math.round(r.left)}–${Math.round(r.right)} leaves ${name(cell)} at ${Math.round(box.left)}–${Math.round(box.right)}`);
            }
          }
        }
      }
      return out;
    });
    let problems = await measure();
    await browser
      .waitUntil(async () => (problems = await measure()).length === 0, { timeout: 3000, interval: 200 })
      .catch(() => {});
    assert.deepEqual(problems, [], `at ${width}×${height}`);
    // The refresh count is on screen at every width (scrolled to: with the sandbox's seven
    // profiles the row can be below the fold of the narrowest window).
    const count = await browser.$('[data-testid="token-card-cc-basic"] [data-testid="refresh-count"]');
    await centre(count);
    assert.ok(await count.isDisplayed());
    if (width === conf.minWidth) await screenshot('dashboard-narrow');
  }
  await resize(1400, 900);
});

test('without a GPU, WebKit rasterizes on the CPU; a GPU keeps its default', () => {
  // The app chooses before its first window (src-tauri/src/rendering.rs); its web process
  // inherits the choice.
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri') : [];
  const gpu = dri.some((n) => n.startsWith('renderD'));
  const web = execFileSync('pgrep', ['-f', 'WebKitWebProcess'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .filter((pid) => {
      try {
        const parent = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1];
        return readFileSync(`/proc/${parent}/cmdline`, 'utf8').startsWith(app);
      } catch {
        return false;
      }
    });
  assert.ok(web.length > 0, "the app's WebKitWebProcess is running");
  const environ = readFileSync(`/proc/${web[0]}/environ`, 'utf8').split('\0');
  const set = environ.find((v) => v.startsWith('WEBKIT_SKIA_ENABLE_CPU_RENDERING='));
  if (process.env.WEBKIT_SKIA_ENABLE_CPU_RENDERING !== undefined) {
    assert.equal(set, `WEBKIT_SKIA_ENABLE_CPU_RENDERING=${process.env.WEBKIT_SKIA_ENABLE_CPU_RENDERING}`, "the user's setting is kept");
  } else if (gpu) {
    assert.equal(set, undefined, 'with a GPU render node, WebKit keeps its default');
  } else {
    assert.equal(set, 'WEBKIT_SKIA_ENABLE_CPU_RENDERING=1', 'no GPU render node: CPU rasterization');
  }
});

/** Processes named tokendesk-app of this test's home. */
function appProcesses() {
  return processesOfHome(home).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'tokendesk-app';
    } catch {
      return false;
    }
  });
}

/** What `xwininfo` says of the TokenDesk window. */
function appWindowInfo() {
  return execFileSync('xwininfo', ['-name', 'TokenDesk'], { encoding: 'utf8', timeout: 5000 });
}

/** Resizes the app's window from outside (tests/e2e/xresize.py: XResizeWindow, as a window manager
 * would) and waits until WebDriver reports the new size. WebDriver's own `setWindowSize` first
 * waits for WebKitWebDriver's window-state checks, which depend on a window manager this display
 * does not have; from outside the resize is what a user's drag produces. */
async function resize(width, height) {
  const info = appWindowInfo();
  const id = info.match(/Window id: (0x[0-9a-f]+)/)?.[1];
  assert.ok(id, `the app's window in: ${info}`);
  execFileSync('python3', [path.join(import.meta.dirname, 'xresize.py'), id, String(width), String(height)], { timeout: 10000 });
  await browser.waitUntil(
    async () => {
      const s = await browser.getWindowSize();
      return s.width === width && s.height === height;
    },
    { timeout: 10000, interval: 100, timeoutMsg: `the window is ${width}×${height}` },
  );
}

/** "IsViewable" or "IsUnMapped": the TokenDesk window's map state, as the X server has it. */
function windowMapState() {
  return appWindowInfo().match(/Map State: (\w+)/)?.[1];
}

/** The tray item's latest report after `since` reports, with a menu that satisfies `ok`. */
async function trayMenu(ok, since = 0) {
  let last;
  await browser.waitUntil(
    async () => {
      watcher.stdin.write('describe\n');
      await new Promise((r) => setTimeout(r, 700));
      last = trayReports.slice(since).findLast((r) => r.menu);
      return last && ok(last.menu.map((m) => m.label));
    },
    { timeout: 30000, interval: 500, timeoutMsg: 'the tray menu as expected' },
  ).catch(() => {
    throw new Error(`the tray menu read over D-Bus: ${JSON.stringify(last)}`);
  });
  return last;
}

test('the tray item registers with the StatusNotifierWatcher; its menu lists the profiles with their state', async () => {
  const first = trayReports.find((r) => r.registered);
  assert.ok(first, 'RegisterStatusNotifierItem was called on org.kde.StatusNotifierWatcher');
  assert.equal(first.status, 'Active');
  const cc = 'Sandbox · client credentials';
  await getToken(cc); // a fresh token: valid, with a copy entry
  const report = await trayMenu((labels) => labels.some((l) => l.startsWith(`● ${cc} — valid,`)));
  const labels = report.menu.map((m) => m.label);
  assert.match(labels[0], /^Nearest expiry: .+ in \d+ (min|s)|^Nearest expiry: .+ under a minute/, 'the nearest expiry heads the menu');
  assert.equal(report.menu[0].enabled, false, 'an informing line, not an action');
  const at = labels.findIndex((l) => l.startsWith(`● ${cc} — valid,`));
  assert.equal(labels[at + 1], '    Copy access token', 'a valid token can be copied from the tray');
  assert.deepEqual(labels.slice(-2), ['Open TokenDesk', 'Quit TokenDesk']);
  assert.ok(labels.some((l) => / — (needs sign-in|no token|valid|expiring|expired)/.test(l)));
  // The menu as a panel reads it, drawn for the README (a headless X server has no panel to
  // screenshot): the labels and their enabled state exactly as they came over D-Bus.
  // Leading spaces (the copy entries' indent) become an offset: ImageMagick drops them.
  const lines = report.menu.map((m) => (m.label === '---' ? '─'.repeat(44) : m.label));
  const draw = lines.flatMap((l, i) => {
    const indent = l.length - l.trimStart().length;
    return ['-fill', report.menu[i].enabled ? '#1d2430' : '#8a93a3', '-annotate', `+${16 + indent * 6}+${30 + i * 26}`, l.trimStart()];
  });
  mkdirSync(shots, { recursive: true });
  const width = 40 + 8.5 * Math.max(...lines.map((l) => l.length));
  execFileSync('convert', [
    '-size', `${Math.round(width)}x${24 + lines.length * 26}`, 'xc:#f7f8fa', '-font', 'DejaVu-Sans', '-pointsize', '15',
    '-stroke', 'none', ...draw, '-bordercolor', '#c9ced8', '-border', '1', path.join(shots, 'tray-menu.png'),
  ]);
  // "Copy access token", clicked as a panel clicks it: the token is in the clipboard.
  execFileSync('xclip', ['-selection', 'clipboard'], { input: 'something else', stdio: ['pipe', 'ignore', 'ignore'], timeout: 5000 });
  watcher.stdin.write(`click ${report.menu[at + 1].id}\n`);
  const token = execFileSync(cli, ['token', cc], { env: { ...process.env, TOKENDESK_HOME: home, TOKENDESK_NO_AGENT: '1' }, encoding: 'utf8' }).trim();
  await browser.waitUntil(() => clipboard() === token, { timeout: 10000, timeoutMsg: "the tray's copy put the token in the clipboard" });
});

test('the palette (Ctrl+K) copies a token; xclip reads it back', async () => {
  const name = 'Sandbox · client credentials';
  await click('nav-dashboard');
  await browser.keys(['Control', 'k']);
  const input = await el('palette-input');
  await input.waitForDisplayed({ timeout: 5000 });
  await input.setValue('copy sandbox client cred');
  const best = () => browser.execute(() => document.querySelector('[data-testid="palette"] [aria-selected="true"] .label')?.textContent?.trim());
  await browser.waitUntil(async () => (await best()) === `Copy token: ${name}`, {
    timeout: 5000,
    timeoutMsg: 'the copy action of the profile is the best match',
  });
  await browser.pause(300); // let WebKit paint the filtered list before the screenshot
  await screenshot('palette');
  await browser.keys(['Enter']);
  const cliEnv = { ...process.env, TOKENDESK_HOME: home, TOKENDESK_NO_AGENT: '1' };
  const token = execFileSync(cli, ['token', name], { env: cliEnv, encoding: 'utf8' }).trim();
  await browser.waitUntil(() => clipboard() === token, { timeout: 10000, timeoutMsg: 'the clipboard holds the token' });
  assert.equal(await browser.$('[data-testid="palette"]').isExisting(), false, 'the palette closed');
});

test('a second launch focuses the first window; one process; `tokendesk open P` shows the profile', async () => {
  assert.equal(appProcesses().length, 1, 'one app runs');
  // Ctrl+W closes the window as its close button does: to the tray, the app still running.
  await browser.keys(['Control', 'w']);
  await browser.waitUntil(() => windowMapState() === 'IsUnMapped', { timeout: 10000, timeoutMsg: 'the window is hidden' });
  assert.equal(appProcesses().length, 1, 'closing the window left TokenDesk running (in the tray)');
  // Launched again: the new process hands over to the first and quits; the window comes back.
  const env = { ...process.env, TOKENDESK_HOME: home };
  const started = Date.now();
  execFileSync(app, [], { env, timeout: 30000, stdio: 'ignore' });
  assert.ok(Date.now() - started < 30000);
  await browser.waitUntil(() => windowMapState() === 'IsViewable', { timeout: 10000, timeoutMsg: 'the window is shown again' });
  assert.equal(appProcesses().length, 1, 'still one process');
  assert.equal(await browser.execute(() => document.hasFocus()), true, 'the window has the keyboard focus');
  // The command line does the same and selects a profile.
  const name = 'Sandbox gateway · client credentials';
  await click('nav-dashboard');
  const said = execFileSync(cli, ['open', name], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
  assert.equal(said, '');
  await browser.waitUntil(async () => String(await browser.$('#pv-title').getProperty('textContent')).trim() === name, {
    timeout: 10000,
    timeoutMsg: 'tokendesk open showed the profile',
  });
  assert.equal(appProcesses().length, 1, 'tokendesk open started no second app');
  assert.throws(() => execFileSync(cli, ['open', 'no such profile'], { env, stdio: 'ignore' }), (e) => e.status === 6);
});

test('the window comes back at its saved size and view after a restart', async () => {
  await resize(1111, 733);
  await click('nav-settings');
  await el('shortcuts').waitForDisplayed({ timeout: 5000 });
  const saved = path.join(home, 'window-state.json');
  await browser.waitUntil(() => existsSync(saved) && JSON.parse(readFileSync(saved, 'utf8')).main?.width === 1111, {
    timeout: 10000,
    timeoutMsg: `the size is written to ${saved} once the resize settles`,
  });
  // A new session: tauri-driver ends this app and starts it anew.
  await browser.reloadSession();
  const size = await browser.getWindowSize();
  assert.deepEqual([size.width, size.height], [1111, 733], 'the saved size');
  await el('shortcuts').waitForDisplayed({ timeout: 15000 });
  assert.equal(appProcesses().length, 1);
  await resize(1400, 900);
});

test('a team workspace in git: a pulled profile and a pulled scope change show up live; a broken file names its line and column; a removed file takes its profile away', async () => {
  // A bare repository and two clones, as two machines of a team.
  const team = mkdtempSync(path.join(tmpdir(), 'tokendesk-e2e-team-'));
  const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
  const one = path.join(team, 'one');
  const two = path.join(team, 'two');
  try {
    git(team, 'init', '-q', '--bare', '-b', 'main', 'origin.git');
    git(team, 'clone', '-q', 'origin.git', 'one');
    const identity = (clone) => {
      git(clone, 'config', 'user.name', 'TokenDesk e2e');
      git(clone, 'config', 'user.email', 'e2e@tokendesk.invalid');
    };
    identity(one);
    writeFileSync(path.join(one, 'README.md'), '# Team profiles\n');
    git(one, 'checkout', '-q', '-b', 'main');
    git(one, 'add', '.');
    git(one, 'commit', '-q', '-m', 'Start');
    git(one, 'push', '-q', 'origin', 'main');
    git(team, 'clone', '-q', '-b', 'main', 'origin.git', 'two');
    identity(two);
    const push = (message) => {
      git(one, 'add', '-A');
      git(one, 'commit', '-q', '-m', message);
      git(one, 'push', '-q', 'origin', 'main');
      git(two, 'pull', '-q', '--ff-only');
    };

    // The running app opens the second clone (Settings → Workspaces, by its path).
    await click('nav-settings');
    await type('workspace-path', two);
    await click('workspace-add');
    await browser.waitUntil(async () => (await browser.$$('[data-testid="workspace"]')).length === 1, {
      timeout: 10000,
      timeoutMsg: 'the workspace is listed',
    });
    assert.equal(await text('workspace-count'), '0 files');

    // Machine one adds a profile file (its secret from a command, never in the file); two pulls.
    const profile = (scopes) =>
      [
        '# The team gateway: client credentials.',
        'id = "e2e-team-gw"',
        'name = "Team gateway"',
        `issuer = "${provider.issuer}"`,
        'client_id = "cc-basic"',
        'grant = "client_credentials"',
        `scopes = ${JSON.stringify(scopes)}`,
        '',
        '[secrets.client_secret]',
        'from = "command"',
        'argv = ["printf", "cc-basic-secret"]',
        '',
      ].join('\n');
    mkdirSync(path.join(one, 'test'));
    writeFileSync(path.join(one, 'test/gateway.toml'), profile(['api:read']));
    push('Add the team gateway');
    const row = browser.$('[data-testid="profile-row-Team gateway"]');
    await row.waitForDisplayed({ timeout: 15000, timeoutMsg: 'the pulled profile appears without a restart' });
    assert.ok(await el('profile-workspace-Team gateway').isExisting(), 'marked as a workspace profile');
    await browser.waitUntil(async () => (await text('workspace-count')) === '1 file', {
      timeout: 10000,
      timeoutMsg: 'Settings counts the pulled file',
    });
    await getToken('Team gateway');
    // The command line sees it too (same home, the workspace named on the command line).
    const env = { ...process.env, TOKENDESK_HOME: home };
    const listed = execFileSync(cli, ['list', '--workspace', two], { env, encoding: 'utf8', timeout: 30000 });
    assert.match(listed, /Team gateway/);
    assert.match(listed, /test\/gateway\.toml/);

    // A scope added on machine one shows up in the running app after the pull.
    writeFileSync(path.join(one, 'test/gateway.toml'), profile(['api:read', 'api:write']));
    push('The gateway needs api:write');
    await click('tab-config');
    await browser.waitUntil(async () => (await (await el('field-scopes')).getValue()) === 'api:read api:write', {
      timeout: 15000,
      timeoutMsg: 'the pulled scope is shown',
    });

    // A file that does not parse: its line and column in Settings; the other profile stays.
    writeFileSync(path.join(one, 'broken.toml'), 'id = "e2e-broken"\nname = \n');
    push('A broken file');
    await click('nav-settings');
    await browser.waitUntil(async () => {
      const p = await el('workspace-problem');
      return (await p.isExisting()) && (await p.getText()).startsWith('broken.toml:2:');
    }, { timeout: 15000, timeoutMsg: 'the broken file is named with its line and column' });
    assert.ok(await row.isDisplayed(), 'the other profile is untouched');
    const status = (() => {
      try {
        execFileSync(cli, ['workspace', 'status', '--workspace', two], { env, encoding: 'utf8', timeout: 30000 });
        return null;
      } catch (e) {
        return e;
      }
    })();
    assert.equal(status?.status, 1, 'the command line reports the broken file too');
    assert.match(status.stdout, /broken\.toml:2:\d+/);

    // The profile's file removed on machine one: gone from the app (parked: its tokens and keychain
    // entries kept until the file comes back or it is pruned).
    git(one, 'rm', '-q', 'test/gateway.toml');
    push('Retire the team gateway');
    await row.waitForDisplayed({ reverse: true, timeout: 15000, timeoutMsg: 'the removed profile leaves the sidebar' });
    await browser.waitUntil(
      async () => {
        for (const t of await browser.$$('[data-testid="toast"]')) {
          const text = await t.getText();
          if (text.includes('left the workspace') && text.includes('parked, not deleted')) return true;
        }
        return false;
      },
      { timeout: 10000, timeoutMsg: 'the app says which profile left and that it was parked, not deleted' },
    );
  } finally {
    try {
      execFileSync(cli, ['workspace', 'remove', two], { env: { ...process.env, TOKENDESK_HOME: home }, stdio: 'ignore', timeout: 30000 });
    } catch {
      // not saved
    }
    rmSync(team, { recursive: true, force: true });
  }
});

test('Settings → Workspaces: "Choose folder…" opens the native folder picker, and the folder chosen there is added', async () => {
  const picked = mkdtempSync(path.join(tmpdir(), 'tokendesk-e2e-picked-'));
  const title = 'Open a workspace folder';
  const xdo = (...args) => execFileSync('xdotool', args, { encoding: 'utf8', timeout: 10000 }).trim();
  const picker = () => {
    try {
      return xdo('search', '--onlyvisible', '--name', title).split('\n')[0];
    } catch {
      return '';
    }
  };
  try {
    await click('nav-settings');
    await click('workspace-choose');
    let id = '';
    await browser.waitUntil(() => (id = picker()) !== '', { timeout: 15000, timeoutMsg: 'the native folder picker opens' });
    // Typed as a person would: the location (Ctrl+L), the folder, Enter (again while it shows).
    xdo('windowfocus', '--sync', id);
    xdo('key', '--clearmodifiers', 'ctrl+l');
    xdo('type', '--delay', '15', `${picked}/`);
    for (let i = 0; i < 3 && picker() !== ''; i++) {
      xdo('key', '--clearmodifiers', 'Return');
      await new Promise((r) => setTimeout(r, 1000));
    }
    await browser
      .$(`[data-testid="workspace"] [title="${picked}"]`)
      .waitForExist({ timeout: 15000, timeoutMsg: 'the folder chosen in the picker is added' });
  } finally {
    try {
      execFileSync(cli, ['workspace', 'remove', picked], { env: { ...process.env, TOKENDESK_HOME: home }, stdio: 'ignore', timeout: 30000 });
    } catch {
      // not added
    }
    rmSync(picked, { recursive: true, force: true });
  }
});

test('a profile from an API: the chain shown, a client registered, sign in, Try it answers 200', async () => {
  // A provider that registers clients (RFC 7591) and serves the protected test API
  // (tests/provider/api.mjs): its 401 names its metadata, which names the provider.
  const as = await startProvider(['--registration', 'open']);
  const apiUrl = `${as.issuer}/api/me`;
  await click('new-from-api');
  await el('from-api').waitForDisplayed({ timeout: 10000 });
  await type('from-api-url', apiUrl);
  await click('from-api-discover');
  await el('from-api-steps').waitForDisplayed({ timeout: 20000 });
  const steps = await browser.$$('[data-testid="from-api-step"]');
  assert.equal(steps.length, 3, 'one step per link: the API, its metadata, the authorization server');
  assert.match(await steps[0].getText(), /The API[\s\S]*401[\s\S]*resource_metadata=/);
  assert.match(await steps[1].getText(), /Protected-resource metadata[\s\S]*200[\s\S]*oauth-protected-resource\/api/);
  assert.match(await steps[2].getText(), /Authorization server[\s\S]*200[\s\S]*oauth-authorization-server/);
  assert.equal(await browser.$('[data-testid="from-api-broken"]').isExisting(), false, 'no broken link');
  const result = await text('from-api-result');
  assert.ok(result.includes(`${as.issuer}/api`), `the resource: ${result}`);
  assert.ok(result.includes(as.issuer), 'the authorization server');
  assert.equal(await (await el('from-api-kind-register')).isSelected(), true, 'dynamic registration preselected');
  // The page from its top: the URL, the chain, where it led, the start of the form.
  await (await el('from-api')).scrollIntoView({ block: 'start' });
  await browser.pause(300); // let WebKit paint the scrolled page before the screenshot
  await screenshot('from-api');
  await type('from-api-name', 'test-api');
  await click('from-api-create');
  await openProfile('test-api');

  // The registered client lives in the profile; its registration access token in the keychain only.
  const cliEnv = { ...process.env, TOKENDESK_HOME: home, TOKENDESK_NO_AGENT: '1' };
  const shown = JSON.parse(execFileSync(cli, ['profile', 'show', 'test-api'], { env: cliEnv, encoding: 'utf8' }));
  const config = shown.config ?? shown;
  assert.equal(config.resource, `${as.issuer}/api`);
  assert.match(config.registration_client_uri, new RegExp(`^${as.issuer}/reg/`));

  await click('sign-in');
  await browser.waitUntil(
    async () => {
      const err = await el('error-message');
      if (await err.isExisting()) throw new Error(`the sign-in failed: ${await err.getText()}`);
      return (await el('countdown-access')).isExisting();
    },
    { timeout: 30000, timeoutMsg: 'a token for "test-api"' },
  );
  await click('tab-try');
  const url = await el('try-url');
  await url.waitForDisplayed({ timeout: 10000 });
  assert.equal(await url.getValue(), apiUrl, "Try it starts at the profile's API URL");
  await click('try-send');
  await browser.waitUntil(async () => (await el('try-status').isExisting()) && (await text('try-status')) === '200', {
    timeout: 20000,
    timeoutMsg: 'the API accepts the token issued for its resource',
  }).catch(async (e) => {
    const status = await el('try-status');
    throw new Error(`${e.message}: ${(await status.isExisting()) ? await status.getText() : 'no answer'}`);
  });
  const body = await text('try-body-view');
  assert.ok(body.includes(`"aud": "${as.issuer}/api"`), `the token's audience is the resource: ${body.slice(0, 200)}`);
});

test('a resource the provider refuses: Retry without the resource turns it off, says so, and signs in', async () => {
  // The test API's /api-unknown names a resource the provider does not know (invalid_target).
  const as = await startProvider(['--registration', 'open']);
  const resource = `${as.issuer}/api-unknown`;
  await click('new-from-api');
  await type('from-api-url', `${resource}/me`);
  await click('from-api-discover');
  await el('from-api-form').waitForDisplayed({ timeout: 20000 });
  await type('from-api-name', 'unknown-api');
  await click('from-api-create');
  await openProfile('unknown-api');
  await click('sign-in');
  await el('resource-refused-offer').waitForDisplayed({ timeout: 30000 });
  assert.match(await text('error-message'), /invalid_target/);
  assert.ok((await text('resource-refused-offer')).includes(resource), 'the offer names the resource');
  await click('retry-without-resource');
  await browser.waitUntil(
    async () => {
      const err = await el('error-message');
      if ((await err.isExisting()) && !(await el('resource-refused-offer').isExisting())) {
        throw new Error(`the retry failed: ${await err.getText()}`);
      }
      return (await el('countdown-access')).isExisting();
    },
    { timeout: 30000, timeoutMsg: 'signed in without the resource' },
  ).catch(async (e) => {
    await browser.saveScreenshot(path.join(root, 'target/e2e/retry-without-resource.png'));
    const panel = await el('login-panel');
    throw new Error(`${e.message}: ${(await panel.isExisting()) ? await panel.getText() : 'no sign-in panel'}`);
  });
  // The profile says what it no longer sends; the store agrees.
  assert.ok((await text('resource-refused')).includes(resource));
  const cliEnv = { ...process.env, TOKENDESK_HOME: home, TOKENDESK_NO_AGENT: '1' };
  const shown = JSON.parse(execFileSync(cli, ['profile', 'show', 'unknown-api'], { env: cliEnv, encoding: 'utf8' }));
  assert.equal(shown.resource, null);
  assert.equal(shown.resource_refused, resource);
});

test('Import a Postman collection: the plan, one secret kept in the keychain, one from a command, both profiles get tokens', async () => {
  const meta = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json();
  const dir = mkdtempSync(path.join(tmpdir(), 'tokendesk-e2e-import-'));
  const oauth2 = (pairs) => Object.entries(pairs).map(([key, value]) => ({ key, value, type: 'string' }));
  const collection = path.join(dir, 'warehouse.postman_collection.json');
  writeFileSync(collection, JSON.stringify({
    info: { name: 'Warehouse', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
    auth: {
      type: 'oauth2',
      oauth2: oauth2({ grant_type: 'client_credentials', accessTokenUrl: '{{tokenUrl}}', clientId: 'cc-basic', clientSecret: '{{basicSecret}}', scope: 'api:read', client_authentication: 'header' }),
    },
    item: [
      { name: 'Stock', request: { method: 'GET', header: [], url: { raw: 'https://api.warehouse.example/stock' } } },
      {
        name: 'Export',
        request: {
          auth: { type: 'oauth2', oauth2: oauth2({ grant_type: 'client_credentials', accessTokenUrl: '{{tokenUrl}}', clientId: 'cc-post', clientSecret: '{{postSecret}}', scope: 'api:read', client_authentication: 'body' }) },
          method: 'GET', header: [], url: { raw: 'https://api.warehouse.example/export' },
        },
      },
    ],
  }));
  const environment = path.join(dir, 'e2e.postman_environment.json');
  writeFileSync(environment, JSON.stringify({
    name: 'e2e',
    values: [
      { key: 'tokenUrl', value: meta.token_endpoint, enabled: true },
      { key: 'basicSecret', value: 'cc-basic-secret', enabled: true },
      { key: 'postSecret', value: 'cc-post-secret', enabled: true },
    ],
  }));

  await click('import-open');
  await el('import-dialog').waitForDisplayed({ timeout: 10000 });
  await type('import-path', collection);
  await type('import-environment', environment);
  await click('import-preview');
  await el('import-plan').waitForDisplayed({ timeout: 20000 });
  const planned = await browser.$$('[data-testid="import-profile"]');
  assert.equal(planned.length, 2, 'the collection and its request with its own auth: two profiles');
  const names = [];
  for (const p of planned) names.push(String(await p.$('.p-name').getProperty('textContent')).trim());
  const found = await browser.$$('[data-testid="import-secret-found"]');
  assert.equal(found.length, 2, 'both secrets found (where, not what)');
  for (const f of found) assert.ok(!(await f.getText()).includes('cc-basic-secret') && !(await f.getText()).includes('cc-post-secret'), 'no secret value shown');
  // The second profile takes its secret from a command: the value found in the file is dropped.
  const from = await el('secret-source-import-1-from');
  await centre(from);
  await from.selectByAttribute('value', 'command');
  await type('secret-source-import-1-argv', 'printf cc-post-secret');
  await el('import-secret-dropped-1').waitForDisplayed({ timeout: 5000 });
  await click('import-store-secrets');
  await browser.pause(300); // let WebKit paint the picked source before the screenshot
  await screenshot('import-dialog');
  await click('import-run');
  await el('import-dialog').waitForDisplayed({ reverse: true, timeout: 20000 });

  const cliEnv = { ...process.env, TOKENDESK_HOME: home, TOKENDESK_NO_AGENT: '1' };
  const [basic, post] = names.map((n) => JSON.parse(execFileSync(cli, ['profile', 'show', n], { env: cliEnv, encoding: 'utf8' })));
  assert.equal(basic.client_id, 'cc-basic');
  assert.equal(post.client_id, 'cc-post');
  assert.deepEqual(post.secrets.client_secret, { from: 'command', argv: ['printf', 'cc-post-secret'] }, JSON.stringify(post.secrets));
  for (const n of names) await getToken(n);
  rmSync(dir, { recursive: true, force: true });
});
