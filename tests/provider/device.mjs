#!/usr/bin/env node
// Headless user of a device sign-in (RFC 8628) on the test provider (server.mjs): opens the
// verification page, enters the user code, confirms (or aborts), signs in and consents through
// oidc-provider's devInteractions pages — the other device of the flow, with plain HTTP.
//
//   node device.mjs '<verification_uri>' '<user_code>' [--login alice] [--password pw]
//        [--deny] [--timeout-ms N] [--verbose]
//
// stdout: one JSON line, {"approved":true} or {"denied":true}. Exit 0 on success; on any
// failure a message on stderr and exit 1.
//
// --deny presses "[ Abort ]" on the confirmation page: the device's next poll gets
// access_denied.

import { parseArgs } from 'node:util';

const USAGE = `usage: node device.mjs '<verification_uri>' '<user_code>' [--login NAME] [--password PW]
       [--deny] [--timeout-ms N] [--verbose]`;

function fail(message) {
  process.stderr.write(`device.mjs: ${message}\n`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    strict: true,
    options: {
      login: { type: 'string', default: 'alice' },
      password: { type: 'string', default: 'password' },
      deny: { type: 'boolean', default: false },
      'timeout-ms': { type: 'string', default: '15000' },
      verbose: { type: 'boolean', default: false },
    },
  });
} catch (err) {
  fail(`${err.message}\n${USAGE}`);
}
const { values: opts, positionals } = args;
if (positionals.length !== 2) fail(`expected the verification URI and the user code\n${USAGE}`);
let start;
try {
  start = new URL(positionals[0]);
} catch {
  fail(`not a valid URL: ${positionals[0]}`);
}
const userCode = positionals[1];
const timeoutMs = Number(opts['timeout-ms']);
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) fail('--timeout-ms must be a positive number');
const debug = opts.verbose ? (...a) => process.stderr.write(`device.mjs: ${a.join(' ')}\n`) : () => {};

// Cookies of the one origin: name + path -> value (Path and Max-Age/Expires honoured).
const cookies = new Map();
function storeCookies(url, headers) {
  for (const header of headers) {
    const [pair, ...attrs] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const c = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path: '/', expired: false };
    for (const attr of attrs) {
      const [k, ...v] = attr.split('=');
      const key = k.trim().toLowerCase();
      const val = v.join('=').trim();
      if (key === 'path' && val.startsWith('/')) c.path = val;
      else if (key === 'max-age' && Number(val) <= 0) c.expired = true;
      else if (key === 'expires' && Date.parse(val) <= Date.now()) c.expired = true;
    }
    const key = `${c.name}\u0000${c.path}`;
    if (c.expired) cookies.delete(key);
    else cookies.set(key, c);
  }
  void url;
}
const cookieHeader = (url) => [...cookies.values()]
  .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
  .sort((a, b) => b.path.length - a.path.length)
  .map((c) => `${c.name}=${c.value}`)
  .join('; ');

const entity = (s) => s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e) => {
  const l = e.toLowerCase();
  if (l.startsWith('#x')) return String.fromCodePoint(Number.parseInt(l.slice(2), 16));
  if (l.startsWith('#')) return String.fromCodePoint(Number.parseInt(l.slice(1), 10));
  return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[l];
});
const attributes = (s) => Object.fromEntries([...s.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)]
  .map((m) => [m[1].toLowerCase(), entity(m[2] ?? m[3] ?? m[4] ?? '')]));
const forms = (html) => [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, a, inner]) => ({
  ...attributes(a),
  fields: Object.fromEntries([...inner.matchAll(/<input\b([^>]*)>/gi)]
    .map(([, i]) => attributes(i)).filter((i) => i.name).map((i) => [i.name, i.value ?? ''])),
}));
const title = (html) => entity(html.match(/<title[^>]*>([\s\S]*?)<\/title>/i)?.[1]?.trim() ?? '');

async function request(url, form) {
  const headers = { 'user-agent': 'tokendesk-device.mjs', accept: 'text/html,*/*' };
  const cookie = cookieHeader(url);
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const method = form ? 'POST' : 'GET';
  debug(`${method} ${url.href}`);
  let res;
  try {
    res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    fail(`${method} ${url.href} failed: ${err.cause?.message ?? err.message}`);
  }
  storeCookies(url, res.headers.getSetCookie());
  const text = await res.text();
  debug(`  -> ${res.status} ${res.headers.get('location') ?? title(text)}`);
  return { res, text };
}

function formOf(html, id, pageUrl) {
  const f = forms(html).find((x) => x.id === id);
  if (!f) fail(`no form ${id} on ${pageUrl.href} (page "${title(html)}")`);
  return { action: new URL(f.action || pageUrl.href, pageUrl), fields: f.fields };
}

// 1. The verification page: a form for the code.
let page = await request(start);
if (page.res.status !== 200) fail(`GET ${start.href} answered ${page.res.status}`);
const input = formOf(page.text, 'op.deviceInputForm', start);
// 2. The code: a confirmation page.
page = await request(input.action, { ...input.fields, user_code: userCode });
if (page.res.status !== 200) fail(`the code ${userCode} was not accepted (HTTP ${page.res.status}, "${title(page.text)}")`);
const confirm = formOf(page.text, 'op.deviceConfirmForm', input.action);

if (opts.deny) {
  // 3a. [ Abort ]: the provider marks the code access_denied and says so.
  const { fields } = confirm;
  delete fields.confirm;
  page = await request(confirm.action, { ...fields, abort: 'yes' });
  if (!/interrupted/i.test(page.text)) fail(`aborting did not interrupt the sign-in ("${title(page.text)}")`);
  process.stdout.write(`${JSON.stringify({ denied: true })}\n`);
  process.exit(0);
}

// 3b. Continue, then the login and consent pages, to the success page.
let next = { url: confirm.action, form: confirm.fields };
for (let step = 0; step < 20; step += 1) {
  const { res, text } = await request(next.url, next.form);
  const location = res.headers.get('location');
  if (res.status >= 300 && res.status < 400 && location) {
    next = { url: new URL(location, next.url) };
    continue;
  }
  if (res.status === 200 && /Sign-in Success/i.test(title(text))) {
    process.stdout.write(`${JSON.stringify({ approved: true })}\n`);
    process.exit(0);
  }
  const f = forms(text).find((x) => x.fields.prompt);
  if (res.status !== 200 || !f) fail(`${next.url.href} answered ${res.status} ("${title(text)}") instead of a sign-in page`);
  const fields = { ...f.fields };
  if (fields.prompt === 'login') {
    fields.login = opts.login;
    fields.password = opts.password;
  } else if (fields.prompt !== 'consent') {
    fail(`unsupported interaction prompt ${JSON.stringify(fields.prompt)}`);
  }
  next = { url: new URL(f.action || next.url.href, next.url), form: fields };
}
fail('too many steps without reaching the success page');
