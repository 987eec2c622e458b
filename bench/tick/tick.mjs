// The cost of one countdown tick of the shared clock, in the real built UI (ui/dist) under
// headless Chromium, with N live tokens on the dashboard (and N profiles in the sidebar).
//
// Per tick, inside the page: advance the shared clock by 1 s (window.__tokendesk.clock), let
// Svelte apply the updates synchronously (flushSync), and force style + layout
// (getBoundingClientRect / offsetHeight), timing it all with performance.now() (5 µs resolution:
// the page is cross-origin isolated). One tick per animation frame, so each tick starts from a
// painted, clean state as in the app.
//
// Baselines in the same run: the same tick with 1 token, and with no token at all (the dashboard
// is empty, the clock has no readers: harness + forced layout cost). The three pages are measured
// in interleaved rounds so that a change in machine load hits all three alike.
//
// Also reported: the DOM mutations of one tick (character data / attributes / child lists — a
// tick must change texts and transforms only, never re-create rows) and Chromium's own
// main-thread durations from the DevTools Performance domain, per tick.

import { cpus, loadavg } from 'node:os';
import { cspViolations, launch, openApp, serve } from './harness.mjs';

const N = Number(process.env.TOKENS ?? 500);
const TICKS = Number(process.env.TICKS ?? 100); // per round and page
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const WARMUP = Number(process.env.WARMUP ?? 30);
const TARGET_MS = 4;
// BEFORE_DIST=<an earlier build of ui/dist>: its N-token page is measured in the same rounds.
const BEFORE_DIST = process.env.BEFORE_DIST ?? '';
// ALSO=100: one more page of this build with that many tokens (e.g. a 10,000-token run against 100).
const ALSO = process.env.ALSO ? Number(process.env.ALSO) : null;

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
}

async function open(context, url, n, label = 'this build') {
  const { page, errors } = await openApp(context, url, { kind: 'bulk', n });
  if (n > 0) {
    // The list is virtualised: wait until all n tokens are loaded and the first rows are shown.
    await page.waitForFunction(
      (n) => document.querySelector('#dash-title + .muted')?.textContent === `${n} of ${n} profiles hold a token` && document.querySelector('[data-testid^="token-card-"]'),
      n,
      { timeout: 120_000 },
    );
  } else {
    await page.waitForSelector('text=No profiles yet');
  }
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  await page.bringToFront();
  // Freeze the shared clock and warm up (JIT, style caches).
  const first = await page.evaluate(async (warmup) => {
    const { clock, flush } = window.__tokendesk;
    window.__base = Date.now();
    window.__i = 0;
    clock.set(window.__base);
    flush();
    for (let i = 0; i < warmup; i++) {
      await new Promise(requestAnimationFrame);
      clock.set(window.__base + ++window.__i * 1000);
      flush();
      document.body.getBoundingClientRect();
    }
    return document.querySelector('[data-testid="countdown-access"]')?.textContent ?? null;
  }, WARMUP);
  return { n, label, page, cdp, errors, first, times: [], scripts: [], roundMedians: [], chrome: { script: 0, style: 0, layout: 0, task: 0 } };
}

async function metrics(cdp) {
  return Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
}

async function round(p) {
  // Only the front tab gets animation frames.
  await p.page.bringToFront();
  const before = await metrics(p.cdp);
  const r = await p.page.evaluate(async (ticks) => {
    const { clock, flush } = window.__tokendesk;
    const times = [];
    const scripts = [];
    for (let i = 0; i < ticks; i++) {
      await new Promise(requestAnimationFrame);
      const t0 = performance.now();
      clock.set(window.__base + ++window.__i * 1000);
      flush();
      const t1 = performance.now();
      document.body.getBoundingClientRect();
      void document.documentElement.offsetHeight;
      const t2 = performance.now();
      times.push(t2 - t0);
      scripts.push(t1 - t0);
    }
    return { times, scripts };
  }, TICKS);
  const after = await metrics(p.cdp);
  p.times.push(...r.times);
  p.scripts.push(...r.scripts);
  p.roundMedians.push(stats(r.times).median);
  // Chromium's counters cover the rAF waits too (painting the previous tick), i.e. the whole
  // frame's main-thread work per tick.
  p.chrome.script += after.ScriptDuration - before.ScriptDuration;
  p.chrome.style += after.RecalcStyleDuration - before.RecalcStyleDuration;
  p.chrome.layout += after.LayoutDuration - before.LayoutDuration;
  p.chrome.task += after.TaskDuration - before.TaskDuration;
}

/** One more tick, watched: what does a tick change in the DOM? */
async function mutations(p) {
  await p.page.bringToFront();
  return p.page.evaluate(async () => {
    const { clock, flush } = window.__tokendesk;
    const counts = { characterData: 0, attributes: 0, childList: 0, attributeNames: {} };
    const count = (records) => {
      for (const r of records) {
        counts[r.type]++;
        if (r.type === 'attributes') counts.attributeNames[r.attributeName] = (counts.attributeNames[r.attributeName] ?? 0) + 1;
      }
    };
    const mo = new MutationObserver(count);
    mo.observe(document.body, { subtree: true, characterData: true, attributes: true, childList: true });
    await new Promise(requestAnimationFrame);
    clock.set(window.__base + ++window.__i * 1000);
    flush();
    count(mo.takeRecords());
    mo.disconnect();
    return {
      counts,
      cards: document.querySelectorAll('[data-testid^="token-card-"]').length,
      text: document.querySelector('[data-testid="countdown-access"]')?.textContent ?? null,
      ticks: window.__i,
      isolated: window.crossOriginIsolated,
    };
  });
}

const fmt = (x) => x.toFixed(3).padStart(7);

const servers = [await serve()];
if (BEFORE_DIST) servers.push(await serve(BEFORE_DIST));
const browser = await launch({ viewport: { width: 1440, height: 900 } });
try {
  const loadBefore = loadavg()[0];
  const pages = [];
  for (const n of [N, 1, 0]) pages.push(await open(browser.context, servers[0].url, n));
  if (BEFORE_DIST) pages.push(await open(browser.context, servers[1].url, N, 'before'));
  if (ALSO !== null) pages.push(await open(browser.context, servers[0].url, ALSO));
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? pages : [...pages].reverse();
    for (const p of order) await round(p);
  }
  const watched = [];
  for (const p of pages) watched.push(await mutations(p));
  const measured = pages.map((p) => ({ ...p, ...stats(p.times), js: stats(p.scripts) }));
  const [big, one, none] = measured;
  const before = measured.find((p) => p.label === 'before');
  const also = ALSO === null ? undefined : measured.at(-1);
  const total = TICKS * ROUNDS;

  console.log(`TokenDesk countdown tick — ${ROUNDS} interleaved rounds × ${TICKS} ticks after ${WARMUP} warm-up; Chromium headless, 1440×900`);
  console.log(`machine: ${cpus().length} cores, load average ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)} (wall-clock times grow with load)`);
  console.log(`page cross-origin isolated: ${watched[0].isolated} (performance.now() resolution ${watched[0].isolated ? '5 µs' : '100 µs'})`);
  console.log('');
  console.log('one tick = JS (clock + Svelte flush + countdown loop) + forced style/layout, in ms');
  console.log('build         tokens   median      p95      min      max  best-round-median  JS median | Chromium per tick: style  layout    task');
  for (const r of [big, before, also, one, none].filter(Boolean)) {
    const c = (k) => (r.chrome[k] * 1000) / total;
    console.log(
      `${r.label.padEnd(11)} ${String(r.n).padStart(6)} ${fmt(r.median)}  ${fmt(r.p95)}  ${fmt(r.min)}  ${fmt(r.max)}            ${fmt(Math.min(...r.roundMedians))}    ${fmt(r.js.median)} |             ${fmt(c('style'))} ${fmt(c('layout'))} ${fmt(c('task'))}`,
    );
  }
  console.log('(Chromium "task" is all main-thread work per tick: the tick, then style, layout, paint and compositing of the frame)');
  console.log('');
  console.log(`ratio ${N} tokens / 1 token (median): ${(big.median / one.median).toFixed(2)}×${before ? `; before: ${(before.median / one.median).toFixed(2)}×` : ''}`);
  console.log(`cost over the empty page (median): ${(big.median - none.median).toFixed(3)} ms for ${N} tokens = ${(((big.median - none.median) / N) * 1000).toFixed(2)} µs per token`);
  const m = watched[0];
  console.log(
    `DOM changes of one tick with ${N} tokens: ${m.counts.characterData} texts, ${m.counts.attributes} attributes ${JSON.stringify(m.counts.attributeNames)}, ${m.counts.childList} child-list changes`,
  );
  console.log(`first countdown ${JSON.stringify(big.first)} → ${JSON.stringify(m.text)} after ${m.ticks} ticks; ${m.cards} of ${N} cards rendered (virtualised list)`);
  const problems = [];
  for (const p of pages) {
    problems.push(...p.errors, ...(await cspViolations(p.page)).map((v) => 'CSP: ' + v));
  }
  if (problems.length) console.log('page problems:\n  ' + problems.join('\n  '));
  // The list renders the rows in view only: at most all of them, at least the first few.
  const ok = big.median < TARGET_MS && m.counts.childList < N / 10 && m.cards >= Math.min(N, 10) && m.cards <= N && problems.length === 0;
  console.log(`\nmedian tick at ${N} tokens: ${big.median.toFixed(3)} ms — target < ${TARGET_MS} ms: ${ok ? 'met' : 'NOT met'}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
  for (const s of servers) await s.close();
}
