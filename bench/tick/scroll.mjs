// 10,000 live tokens: scrolling the dashboard's live list and typing in the sidebar's filter, in
// the real built UI (ui/dist) under headless Chromium, against the same page with 10 tokens
// (the baseline) measured in the same run, in interleaved rounds.
//
// Scroll: the main pane is scrolled by PX pixels once per animation frame for FRAMES frames
// (two speeds: a wheel-like step and a page per frame, where every row is replaced). Per frame:
//   - frame time: the delta between consecutive requestAnimationFrame callbacks (what a user
//     sees: 16.7 ms at 60 Hz; a frame whose work does not fit shows as a longer delta);
//   - work: the scroll step as the app handles it (the list's scroll handler, Svelte's update,
//     forced style + layout), timed with performance.now() inside the frame;
//   - Chromium's own main-thread task time per frame (DevTools Performance domain), which also
//     covers painting.
// The countdowns must stay live: the clock advances by one second every 60 frames while
// scrolling, and the bench checks a row scrolled to shows the right, changing countdown.
//
// Search: the sidebar's filter gets one keystroke per frame (typing "client-4" and deleting it
// again, so the list goes from 10,000 to 1,111 matches and back), after a profile is renamed
// (the profiles change, so nothing of an earlier round's search is remembered). Per keystroke:
//   - work: input event → Svelte update → forced style + layout (synchronous);
//   - to paint: from the keystroke to the next frame after it (rAF, then a task after the frame).

import { cpus, loadavg } from 'node:os';
import { cspViolations, launch, openApp, serve, stats, taskTime } from './harness.mjs';

const BIG = Number(process.env.ROWS ?? 10_000);
// Baselines: 100 rows (the same virtualised list, scrolled the same way) and 10 rows (nothing to
// scroll: the floor of a frame with the harness running).
const BASES = (process.env.BASE_ROWS ?? '100,10').split(',').map(Number);
const FRAMES = Number(process.env.FRAMES ?? 240);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const STEPS = [Number(process.env.PX ?? 40), Number(process.env.PAGE_PX ?? 800)];
const QUERY = process.env.QUERY ?? 'client-4';
// BEFORE_DIST=<an earlier build of ui/dist>: its 10,000-row page is measured in the same rounds.
const BEFORE_DIST = process.env.BEFORE_DIST ?? '';
const FRAME_MS = 1000 / 60;
const KEY_TARGET_MS = 16;

async function open(context, url, n, label = 'this build') {
  const { page, errors } = await openApp(context, url, { kind: 'bulk', n });
  await page.waitForFunction(
    (n) => document.querySelector('#dash-title + .muted')?.textContent === `${n} of ${n} profiles hold a token` && document.querySelector('[data-testid^="token-card-"]'),
    n,
    { timeout: 120_000 },
  );
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  await page.bringToFront();
  await page.evaluate(() => {
    const { clock, flush } = window.__tokendesk;
    window.__base = Date.now();
    clock.set(window.__base);
    flush();
  });
  return { n, label, page, cdp, errors, scroll: Object.fromEntries(STEPS.map((px) => [px, { frames: [], work: [], task: 0, count: 0 }])), keys: { work: [], paint: [] } };
}

async function scrollRound(p, px) {
  await p.page.bringToFront();
  const before = await taskTime(p.cdp);
  const r = await p.page.evaluate(
    async ({ frames, px }) => {
      const { clock, flush } = window.__tokendesk;
      const main = document.getElementById('main');
      main.scrollTop = 0;
      main.dispatchEvent(new Event('scroll'));
      flush();
      await new Promise(requestAnimationFrame);
      const deltas = [];
      const work = [];
      let last = await new Promise(requestAnimationFrame);
      for (let i = 0; i < frames; i++) {
        const now = await new Promise(requestAnimationFrame);
        deltas.push(now - last);
        last = now;
        const t0 = performance.now();
        if (i % 60 === 59) clock.set(clock.now + 1000);
        // Back to the top at the end (a shorter list wraps around sooner).
        main.scrollTop = main.scrollTop + px > main.scrollHeight - main.clientHeight ? 0 : main.scrollTop + px;
        // The app's handler runs now rather than at the next frame's scroll steps, so the frame
        // shows the rows of its own scroll position and the work can be timed.
        main.dispatchEvent(new Event('scroll'));
        flush();
        main.getBoundingClientRect();
        void document.documentElement.offsetHeight;
        work.push(performance.now() - t0);
      }
      // A row in view now: its countdown matches its token, and moves with the clock.
      const cards = [...document.querySelectorAll('[data-testid^="token-card-"]')];
      const box = main.getBoundingClientRect();
      const visible = cards.find((c) => {
        const r = c.getBoundingClientRect();
        return r.top >= box.top && r.bottom <= box.bottom;
      });
      const text = () => visible?.querySelector('[data-testid="countdown-access"]')?.textContent ?? null;
      const a = text();
      clock.set(clock.now + 1000);
      flush();
      return { deltas, work, scrollTop: main.scrollTop, rendered: cards.length, live: [a, text()], row: visible?.dataset.testid ?? null };
    },
    { frames: FRAMES, px },
  );
  const after = await taskTime(p.cdp);
  const s = p.scroll[px];
  s.frames.push(...r.deltas);
  s.work.push(...r.work);
  s.task += after - before;
  s.count += FRAMES;
  s.last = r;
}

async function searchRound(p) {
  await p.page.bringToFront();
  // A profile renamed first (and back in the next round; the first of the first environment, so
  // its row is in view): the profiles change, so the sidebar's search starts afresh, remembering
  // no earlier query (the rounds type the same one).
  await p.page.evaluate(async () => {
    const b = window.__mockBackend;
    const old = (await b.handle('list_profiles', {})).find((x) => x.id === 'bulk-3');
    const name = old.name.endsWith(' (renamed)') ? old.name.slice(0, -' (renamed)'.length) : `${old.name} (renamed)`;
    await b.handle('update_profile', { id: 'bulk-3', config: { ...old, name } });
    for (let i = 0; i < 600 && !document.querySelector(`[data-testid="profile-row-${name}"]`); i++) await new Promise(requestAnimationFrame);
    if (!document.querySelector(`[data-testid="profile-row-${name}"]`)) throw new Error(`the sidebar does not show ${name}`);
    await new Promise(requestAnimationFrame);
  });
  const r = await p.page.evaluate(async (query) => {
    const { flush } = window.__tokendesk;
    const input = document.querySelector('[data-testid="profile-filter"]');
    input.focus();
    const afterPaint = () =>
      new Promise((ok) => {
        requestAnimationFrame(() => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => ok(performance.now());
          ch.port2.postMessage(0);
        });
      });
    const values = [];
    for (let i = 1; i <= query.length; i++) values.push(query.slice(0, i));
    for (let i = query.length - 1; i >= 0; i--) values.push(query.slice(0, i));
    const work = [];
    const paint = [];
    const shown = [];
    for (const v of values) {
      await new Promise(requestAnimationFrame);
      const t0 = performance.now();
      input.value = v;
      input.dispatchEvent(new InputEvent('input', { bubbles: true, data: v.at(-1) ?? null }));
      flush();
      document.querySelector('.groups').getBoundingClientRect();
      void document.documentElement.offsetHeight;
      work.push(performance.now() - t0);
      paint.push((await afterPaint()) - t0);
      shown.push(document.querySelectorAll('[data-testid^="profile-row-"]').length);
    }
    // What the full query shows: the rows rendered, and whether each matches.
    input.value = query;
    input.dispatchEvent(new InputEvent('input', { bubbles: true }));
    flush();
    const rows = [...document.querySelectorAll('[data-testid^="profile-row-"]')];
    const n = (r) => Number(r.dataset.testid.replace(/\D/g, ''));
    const result = { rendered: rows.length, allMatch: rows.every((r) => `client-${n(r)}`.includes(query)) };
    input.value = '';
    input.dispatchEvent(new InputEvent('input', { bubbles: true }));
    flush();
    return { work, paint, shown, result };
  }, QUERY);
  p.keys.work.push(...r.work);
  p.keys.paint.push(...r.paint);
  p.keys.last = r;
}

const fmt = (x) => x.toFixed(2).padStart(7);

const servers = [await serve()];
if (BEFORE_DIST) servers.push(await serve(BEFORE_DIST));
const browser = await launch({ viewport: { width: 1440, height: 900 } });
try {
  const loadBefore = loadavg()[0];
  const big = await open(browser.context, servers[0].url, BIG);
  const before = BEFORE_DIST ? [await open(browser.context, servers[1].url, BIG, 'before')] : [];
  const bases = [];
  for (const n of BASES) bases.push(await open(browser.context, servers[0].url, n));
  const all = [big, ...before, ...bases];
  const loads = [];
  // Warm-up (JIT, style caches): one round on each page, not counted.
  for (const p of all) {
    for (const px of STEPS) await scrollRound(p, px);
    await searchRound(p);
    for (const s of Object.values(p.scroll)) Object.assign(s, { frames: [], work: [], task: 0, count: 0 });
    p.keys = { work: [], paint: [] };
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? all : [...all].reverse();
    for (const p of order) {
      for (const px of STEPS) await scrollRound(p, px);
      await searchRound(p);
    }
    loads.push(loadavg()[0]);
  }
  const loadAfter = loadavg()[0];

  console.log(`TokenDesk: scrolling the live list and filtering the sidebar — ${BIG} vs ${BASES.join(' and ')} tokens/profiles, ${ROUNDS} interleaved rounds${BEFORE_DIST ? `; before = ${BEFORE_DIST}` : ''}`);
  console.log(`Chromium headless (software rendering), 1440×900; machine: ${cpus().length} cores, load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)} (per round: ${loads.map((l) => l.toFixed(1)).join(', ')})`);
  console.log('');
  console.log(`scroll: ${FRAMES} frames per round and speed; ms per frame`);
  console.log('build         rows    px/frame | frame (rAF delta) median     p95     max | work median     p95     max | Chromium task/frame | rows rendered');
  const verdicts = [];
  for (const px of STEPS) {
    for (const p of all) {
      const s = p.scroll[px];
      const f = stats(s.frames);
      const w = stats(s.work);
      console.log(
        `${p.label.padEnd(11)} ${String(p.n).padStart(6)} ${String(px).padStart(8)} |               ${fmt(f.median)} ${fmt(f.p95)} ${fmt(f.max)} |    ${fmt(w.median)} ${fmt(w.p95)} ${fmt(w.max)} |             ${fmt((s.task * 1000) / s.count)} | ${s.last.rendered}`,
      );
      if (p === big) verdicts.push({ px, f, w });
    }
  }
  const live = big.scroll[STEPS[0]].last;
  console.log(`countdown of a row scrolled to (${live.row}): ${JSON.stringify(live.live[0])} → ${JSON.stringify(live.live[1])} one second later; scrollTop ${live.scrollTop}`);
  console.log('');
  console.log(`sidebar filter: typing ${JSON.stringify(QUERY)} and deleting it, one keystroke per frame; ms per keystroke`);
  console.log('build       profiles | work median     p95     max | to paint median     p95     max | rows rendered for the query (all match)');
  for (const p of all) {
    const w = stats(p.keys.work);
    const t = stats(p.keys.paint);
    console.log(
      `${p.label.padEnd(11)} ${String(p.n).padStart(8)} |    ${fmt(w.median)} ${fmt(w.p95)} ${fmt(w.max)} |        ${fmt(t.median)} ${fmt(t.p95)} ${fmt(t.max)} | ${p.keys.last.result.rendered} (${p.keys.last.result.allMatch})`,
    );
  }
  const problems = [];
  for (const p of all) problems.push(...p.errors, ...(await cspViolations(p.page)).map((v) => 'CSP: ' + v));
  if (problems.length) console.log('page problems:\n  ' + problems.join('\n  '));
  console.log('');
  let ok = problems.length === 0 && live.live[0] !== live.live[1] && big.keys.last.result.allMatch;
  for (const v of verdicts) {
    const fits = v.f.median <= FRAME_MS + 0.5 && v.w.p95 <= FRAME_MS;
    ok &&= fits;
    console.log(
      `scroll ${v.px} px/frame at ${BIG} rows: median frame ${v.f.median.toFixed(2)} ms, p95 ${v.f.p95.toFixed(2)} ms, work p95 ${v.w.p95.toFixed(2)} ms — 60 fps (≤ ${FRAME_MS.toFixed(1)} ms): ${fits ? 'met' : 'NOT met'}`,
    );
  }
  const kw = stats(big.keys.work);
  const keyOk = kw.p95 < KEY_TARGET_MS;
  ok &&= keyOk;
  console.log(`filter keystroke at ${BIG} profiles: median ${kw.median.toFixed(2)} ms, p95 ${kw.p95.toFixed(2)} ms of work — target < ${KEY_TARGET_MS} ms: ${keyOk ? 'met' : 'NOT met'}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
  for (const s of servers) await s.close();
}
