#!/usr/bin/env node
// Headless "browser" for TokenDesk tests: walks an authorization URL on the
// test provider (server.mjs), signs in and consents through oidc-provider's
// devInteractions pages, and delivers the final redirect to the client.
//
//   node login.mjs '<authorization URL>' [--login alice] [--password pw]
//        [--set key=value ...] [--no-follow] [--cancel] [--jar FILE]
//        [--timeout-ms N] [--verbose]
//
// stdout (one JSON object per line):
//   {"redirect":"<Location of the first redirect that leaves the issuer>"}
//   {"status":<HTTP status of GET on the (possibly --set-modified) URL>}   (unless --no-follow)
// Exit 0 on success; on any failure a message on stderr and exit 1.
//
// --set key=value replaces/adds a query parameter of the redirect before it
// is delivered (`--set key=` removes it), e.g. to tamper with state or iss.
// A response in the URL fragment (hybrid `code id_token`) is delivered the way
// TokenDesk's relay page does in a browser: GET pathname?<fragment>; --set then
// edits the fragment's parameters. The printed redirect keeps the fragment.
// --cancel presses "[ Cancel ]" on the first interaction page, which makes
// the provider redirect back with error=access_denied.
// --jar FILE loads/saves the cookie jar, so a second run can reuse the
// provider session (e.g. prompt=none, or SSO without the login page).

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { navigate } from './navigate.mjs';

const USAGE = `usage: node login.mjs '<authorization URL>' [--login NAME] [--password PW]
       [--set key=value ...] [--no-follow] [--cancel] [--jar FILE] [--timeout-ms N] [--verbose]`;

function fail(message) {
  process.stderr.write(`login.mjs: ${message}\n`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    strict: true,
    options: {
      login: { type: 'string' },
      password: { type: 'string', default: 'password' },
      set: { type: 'string', multiple: true, default: [] },
      'no-follow': { type: 'boolean', default: false },
      cancel: { type: 'boolean', default: false },
      jar: { type: 'string' },
      'timeout-ms': { type: 'string', default: '15000' },
      verbose: { type: 'boolean', default: false },
    },
  });
} catch (err) {
  fail(`${err.message}\n${USAGE}`);
}
const { values: opts, positionals } = args;
if (positionals.length !== 1) fail(`expected exactly one authorization URL\n${USAGE}`);

let startUrl;
try {
  startUrl = new URL(positionals[0]);
} catch {
  fail(`not a valid URL: ${positionals[0]}`);
}
const issuerOrigin = startUrl.origin;
const timeoutMs = Number(opts['timeout-ms']);
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) fail('--timeout-ms must be a positive number');

const sets = opts.set.map((pair) => {
  const i = pair.indexOf('=');
  if (i <= 0) fail(`--set expects key=value, got ${JSON.stringify(pair)}`);
  return [pair.slice(0, i), pair.slice(i + 1)];
});

const debug = opts.verbose ? (...a) => process.stderr.write(`login.mjs: ${a.join(' ')}\n`) : () => {};
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

// ---------------------------------------------------------------------------
// Minimal cookie jar (single origin: the issuer). Honours Path, Max-Age and
// Expires; ignores Domain/Secure/SameSite, which don't matter on loopback.
// ---------------------------------------------------------------------------

class CookieJar {
  /** @type {Map<string, {name:string,value:string,path:string,expires:number|null}>} */
  #cookies = new Map();

  static #defaultPath(pathname) {
    // RFC 6265 5.1.4
    if (!pathname.startsWith('/')) return '/';
    const i = pathname.lastIndexOf('/');
    return i <= 0 ? '/' : pathname.slice(0, i);
  }

  static #pathMatches(requestPath, cookiePath) {
    return requestPath === cookiePath
      || (requestPath.startsWith(cookiePath)
        && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'));
  }

  store(url, setCookieHeaders) {
    for (const header of setCookieHeaders) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        path: CookieJar.#defaultPath(url.pathname),
        expires: null,
      };
      for (const attr of attrs) {
        const [k, ...v] = attr.split('=');
        const key = k.trim().toLowerCase();
        const val = v.join('=').trim();
        if (key === 'path' && val.startsWith('/')) cookie.path = val;
        else if (key === 'max-age' && /^-?\d+$/.test(val)) cookie.expires = Date.now() + Number(val) * 1000;
        else if (key === 'expires' && cookie.expires === null) {
          const t = Date.parse(val);
          if (!Number.isNaN(t)) cookie.expires = t;
        }
      }
      const key = `${cookie.name}\u0000${cookie.path}`;
      if (cookie.expires !== null && cookie.expires <= Date.now()) this.#cookies.delete(key);
      else this.#cookies.set(key, cookie);
    }
  }

  header(url) {
    const now = Date.now();
    const matching = [...this.#cookies.values()]
      .filter((c) => (c.expires === null || c.expires > now) && CookieJar.#pathMatches(url.pathname, c.path))
      // RFC 6265 5.4: longer paths first
      .sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  load(file) {
    if (!fs.existsSync(file)) return;
    for (const c of JSON.parse(fs.readFileSync(file, 'utf8'))) this.#cookies.set(`${c.name}\u0000${c.path}`, c);
  }

  save(file) {
    fs.writeFileSync(file, JSON.stringify([...this.#cookies.values()], null, 2));
  }
}

// ---------------------------------------------------------------------------
// Just enough HTML parsing for oidc-provider's dev interaction pages:
//   login:   <form action=".../interaction/UID" method="post">
//              <input type="hidden" name="prompt" value="login"/>
//              <input name="login" ...> <input name="password" ...>
//   consent: <form ...><input type="hidden" name="prompt" value="consent"/>
//   cancel:  <a href=".../interaction/UID/abort">[ Cancel ]</a>
// ---------------------------------------------------------------------------

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number.parseInt(lower.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower];
  });
}

function parseAttributes(s) {
  const attrs = {};
  for (const m of s.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

function parseForms(html) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, attrs, inner]) => ({
    ...parseAttributes(attrs),
    inputs: [...inner.matchAll(/<input\b([^>]*)>/gi)].map(([, a]) => parseAttributes(a)),
  }));
}

function pageText(html) {
  const title = html.match(/<title[^>]*>([\s\S]*?)<\/title>/i)?.[1]?.trim() ?? '';
  const body = html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<title[^>]*>[\s\S]*?<\/title>/i, ' ')
    .replace(/<[^>]+>/g, ' ');
  const text = decodeEntities(body).replace(/\s+/g, ' ').trim();
  return { title: decodeEntities(title), text: text.length > 2000 ? `${text.slice(0, 2000)}...` : text };
}

// ---------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------

const jar = new CookieJar();
if (opts.jar) {
  try {
    jar.load(opts.jar);
  } catch (err) {
    fail(`cannot read cookie jar ${opts.jar}: ${err.message}`);
  }
}

async function request(url, { method = 'GET', form } = {}) {
  const headers = { 'user-agent': 'tokendesk-login.mjs', accept: 'text/html,*/*' };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  debug(`${method} ${url.href}${cookie ? ' (with cookies)' : ''}`);
  let res;
  try {
    res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    fail(`${method} ${url.href} failed: ${err.cause?.message ?? err.message}`);
  }
  jar.store(url, res.headers.getSetCookie());
  const text = await res.text();
  debug(`  -> ${res.status} ${res.headers.get('location') ?? ''}`);
  return { res, text };
}

function submitInteraction(pageUrl, html) {
  const forms = parseForms(html);
  const form = forms.find((f) => f.inputs.some((i) => i.name === 'prompt'));
  if (!form) return null;

  if (opts.cancel) {
    const href = html.match(/<a\b[^>]*href\s*=\s*"([^"]*\/abort)"/i)?.[1];
    if (!href) fail(`no [ Cancel ] link on the interaction page ${pageUrl.href}`);
    return { url: new URL(decodeEntities(href), pageUrl), method: 'GET' };
  }

  const fields = {};
  for (const input of form.inputs) {
    if (input.name) fields[input.name] = input.value ?? '';
  }
  switch (fields.prompt) {
    case 'login':
      // A login_hint pre-fills the field; --login (or "alice") wins otherwise.
      fields.login = opts.login ?? (fields.login || 'alice');
      fields.password = opts.password;
      break;
    case 'consent':
      break;
    default:
      fail(`unsupported interaction prompt ${JSON.stringify(fields.prompt)} at ${pageUrl.href}`);
  }
  const action = new URL(form.action || pageUrl.href, pageUrl);
  if (action.origin !== issuerOrigin) {
    fail(`interaction form posts off the issuer (${action.href}); response_mode=form_post is not supported`);
  }
  debug(`submitting ${fields.prompt} form`);
  return { url: action, method: (form.method || 'GET').toUpperCase(), form: fields };
}

async function walk() {
  let next = { url: startUrl, method: 'GET' };
  for (let step = 0; step < 25; step += 1) {
    const { res, text } = await request(next.url, next);
    const location = res.headers.get('location');

    if (res.status >= 300 && res.status < 400 && location) {
      const target = new URL(location, next.url);
      if (target.origin !== issuerOrigin) return { raw: location, target };
      next = { url: target, method: 'GET' };
      continue;
    }

    const isHtml = /text\/html/i.test(res.headers.get('content-type') ?? '');
    if (res.status === 200 && isHtml) {
      const submit = submitInteraction(next.url, text);
      if (submit) {
        next = submit;
        continue;
      }
    }

    const { title, text: body } = isHtml ? pageText(text) : { title: '', text: text.slice(0, 2000) };
    fail(`${next.method} ${next.url.href} answered ${res.status} instead of a redirect`
      + `${title ? `\n  title: ${title}` : ''}${body ? `\n  text: ${body}` : ''}`);
  }
  return fail('too many steps without reaching the client redirect');
}

try {
  const { raw, target } = await walk();
  // Print the Location exactly as the provider sent it (resolved if relative).
  const original = /^[a-z][a-z0-9+.-]*:/i.test(raw) ? raw : target.href;
  out({ redirect: original });

  // A response in the fragment (hybrid/implicit) never reaches a server as such: the
  // browser drops it, and TokenDesk's relay page then loads pathname + '?' + fragment.
  const u = new URL(original);
  const fragment = u.hash.length > 1 ? u.hash.slice(1) : null;
  const params = new URLSearchParams(fragment ?? u.search);
  for (const [k, v] of sets) {
    if (v === '') params.delete(k);
    else params.set(k, v);
  }
  let deliver = original;
  if (fragment !== null) {
    const base = u.href.slice(0, u.href.length - u.search.length - u.hash.length); // up to the path
    deliver = `${base}?${sets.length ? params.toString() : fragment}`;
  } else if (sets.length) {
    u.search = params.toString();
    deliver = u.href;
  }

  if (!opts['no-follow']) {
    debug(`GET ${deliver}`);
    let res;
    try {
      res = await navigate(deliver, { timeoutMs });
    } catch (err) {
      fail(`GET ${deliver} failed: ${err.message}`);
    }
    out({ status: res.status });
  }
} finally {
  if (opts.jar) jar.save(opts.jar);
}
process.exit(0);
