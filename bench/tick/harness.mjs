// Shared by tick.mjs and shots.mjs: serves the built UI (ui/dist) on 127.0.0.1 with the app's
// CSP, starts Debian's Chromium through playwright-core with a fresh profile, and injects the
// mock Tauri IPC (ui/src/mock) as an init script.

import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const UI_DIR = resolve(here, '../../ui');
export const DIST = join(UI_DIR, 'dist');

/** The CSP of src-tauri/tauri.conf.json, sent as a header so violations show up here too. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  'connect-src ipc: http://ipc.localhost',
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** A tiny static server for ui/dist on an ephemeral loopback port. */
export function serve(root = DIST) {
  statSync(join(root, 'index.html'));
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': CSP,
        'cache-control': 'no-store',
        // Cross-origin isolation: performance.now() gets 5 µs resolution instead of 100 µs.
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      ok({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((c) => server.close(c)) });
    });
  });
}

let bundled = null;
async function mockBundle() {
  if (!bundled) {
    const r = await build({
      entryPoints: [join(here, 'inject.ts')],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    bundled = r.outputFiles[0].text;
  }
  return bundled;
}

/**
 * The init script: mock config, the mock IPC, a CSP-violation recorder, and Tauri's
 * `freezePrototype` (tauri.conf.json) so the UI runs under the same constraint as in the app.
 */
export async function initScript(config) {
  return [
    `window.__MOCK_CONFIG__ = ${JSON.stringify(config)};`,
    `window.__cspViolations = [];`,
    `document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')));`,
    await mockBundle(),
    `Object.freeze(Object.prototype);`,
  ].join('\n');
}

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium with a fresh, throw-away profile. */
export async function launch({ viewport = { width: 1440, height: 900 }, colorScheme = 'light' } = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'tokendesk-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: false, // --headless=new is in the args, exactly as given
    args: CHROMIUM_ARGS,
    viewport,
    colorScheme,
    deviceScaleFactor: 1,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the app with the given mock data and waits for the first render. */
export async function openApp(context, url, config, { waitFor = '[data-testid="nav-dashboard"]' } = {}) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.addInitScript({ content: await initScript(config) });
  await page.goto(url);
  await page.waitForSelector(waitFor);
  return { page, errors };
}

export async function cspViolations(page) {
  return page.evaluate(() => window.__cspViolations ?? []);
}

/** Median, p95, min, max of a sample. */
export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1], n: s.length };
}

/** Chromium's main-thread task time so far (s), from a CDP session with Performance enabled. */
export async function taskTime(cdp) {
  const m = (await cdp.send('Performance.getMetrics')).metrics.find((x) => x.name === 'TaskDuration');
  return m.value;
}
