// 10,000 live tokens that keep changing: scrolling the dashboard's live list while the core's
// background refresher renews client-credentials tokens at its rate (10,000 profiles of 60-s
// tokens: ~333 renewals a second, each announced by a `token_changed` event), against the same
// page with no renewals, in the real built UI (ui/dist) under headless Chromium.
//
// The renewals are the mock backend's (ui/src/mock): it stores the renewed token set and emits
// `token_changed`, and the page reads what it reads in the app (`tokens_of` for the changed
// profiles now; every token set through `list_tokens` before). With BEFORE_DIST=<a build of an
// earlier commit> the same run measures that build too, in interleaved rounds: the baseline.
//
// Per frame, while scrolling 40 px per frame (a fast wheel) for FRAMES frames:
//   - frame time: delta between consecutive requestAnimationFrame callbacks;
//   - work: the scroll step as the app handles it (scroll handler, Svelte update, forced style
//     and layout), timed inside the frame;
//   - Chromium's main-thread task time per frame (DevTools Performance domain): everything the
//     page's main thread did, the token reads and updates included;
// and per round the events delivered and the token reads the page made.

import { cpus, loadavg } from 'node:os';
import { cspViolations, launch, openApp, serve, stats, taskTime } from './harness.mjs';

const N = Number(process.env.ROWS ?? 10_000);
const RATE = Number(process.env.RATE ?? 333); // renewals per second
const FRAMES = Number(process.env.FRAMES ?? 300);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const PX = Number(process.env.PX ?? 40);
const BEFORE_DIST = process.env.BEFORE_DIST ?? '';

async function open(context, url, label) {
  const { page, errors } = await openApp(context, url, { kind: 'bulk', n: N });
  await page.waitForFunction(
    (n) => document.querySelector('#dash-title + .muted')?.textContent === `${n} of ${n} profiles hold a token` && document.querySelector('[data-testid^="token-card-"]'),
    N,
    { timeout: 180_000 },
  );
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  await page.evaluate(() => {
    // Counts the reads the page makes of the backend (the IPC calls the app would make).
    const b = window.__mockBackend;
    const handle = b.handle.bind(b);
    window.__reads = { list_tokens: 0, tokens_of: 0, ids: 0 };
    b.handle = (cmd, args) => {
      if (cmd === 'list_tokens') window.__reads.list_tokens++;
      if (cmd === 'tokens_of') {
        window.__reads.tokens_of++;
        window.__reads.ids += args.ids.length;
      }
      return handle(cmd, args);
    };
  });
  const blank = () => ({ frames: [], work: [], task: 0, count: 0, events: 0, reads: { list_tokens: 0, tokens_of: 0, ids: 0 }, seconds: 0 });
  return { label, page, cdp, errors, quiet: blank(), churn: blank() };
}

async function round(p, mode) {
  await p.page.bringToFront();
  const before = await taskTime(p.cdp);
  const r = await p.page.evaluate(
    async ({ frames, px, rate, n, churn }) => {
      const main = document.getElementById('main');
      main.scrollTop = 0;
      main.dispatchEvent(new Event('scroll'));
      await new Promise(requestAnimationFrame);
      const reads0 = { ...window.__reads };
      // The refresher: `rate` renewals a second of random profiles, delivered as they fall due
      // (a 10-ms timer, catching up on whatever a late timer missed).
      let events = 0;
      const t0 = performance.now();
      const timer = churn
        ? setInterval(() => {
            const due = Math.floor(((performance.now() - t0) * rate) / 1000);
            const now = Date.now();
            for (; events < due; events++) window.__mockBackend.renewInBackground(`bulk-${Math.floor(Math.random() * n)}`, now);
          }, 10)
        : null;
      const deltas = [];
      const work = [];
      let last = await new Promise(requestAnimationFrame);
      for (let i = 0; i < frames; i++) {
        const now = await new Promise(requestAnimationFrame);
        deltas.push(now - last);
        last = now;
        const w0 = performance.now();
        main.scrollTop = main.scrollTop + px > main.scrollHeight - main.clientHeight ? 0 : main.scrollTop + px;
        main.dispatchEvent(new Event('scroll'));
        window.__tokendesk.flush();
        main.getBoundingClientRect();
        void document.documentElement.offsetHeight;
        work.push(performance.now() - w0);
      }
      if (timer !== null) clearInterval(timer);
      const seconds = (performance.now() - t0) / 1000;
      // Let the last batch land before the next round.
      await new Promise((ok) => setTimeout(ok, 400));
      const reads = Object.fromEntries(Object.entries(window.__reads).map(([k, v]) => [k, v - reads0[k]]));
      const summary = document.querySelector('#dash-title + .muted')?.textContent;
      return { deltas, work, events, reads, seconds, summary, rendered: document.querySelectorAll('[data-testid^="token-card-"]').length };
    },
    { frames: FRAMES, px: PX, rate: RATE, n: N, churn: mode === 'churn' },
  );
  const after = await taskTime(p.cdp);
  const s = p[mode];
  s.frames.push(...r.deltas);
  s.work.push(...r.work);
  s.task += after - before;
  s.count += FRAMES;
  s.events += r.events;
  s.seconds += r.seconds;
  for (const k of Object.keys(s.reads)) s.reads[k] += r.reads[k];
  s.last = r;
}

const fmt = (x) => x.toFixed(2).padStart(7);

const servers = [await serve()];
if (BEFORE_DIST) servers.push(await serve(BEFORE_DIST));
const browser = await launch({ viewport: { width: 1440, height: 900 } });
try {
  const loadBefore = loadavg()[0];
  const pages = [await open(browser.context, servers[0].url, 'this build')];
  if (BEFORE_DIST) pages.push(await open(browser.context, servers[1].url, 'before'));
  // Warm-up: one round of each, not counted.
  for (const p of pages) for (const mode of ['quiet', 'churn']) await round(p, mode);
  for (const p of pages) for (const mode of ['quiet', 'churn']) Object.assign(p[mode], { frames: [], work: [], task: 0, count: 0, events: 0, seconds: 0, reads: { list_tokens: 0, tokens_of: 0, ids: 0 } });
  const loads = [];
  for (let r = 0; r < ROUNDS; r++) {
    const runs = pages.flatMap((p) => [[p, 'quiet'], [p, 'churn']]);
    for (const [p, mode] of r % 2 === 0 ? runs : runs.reverse()) await round(p, mode);
    loads.push(loadavg()[0]);
  }
  const loadAfter = loadavg()[0];

  console.log(`TokenDesk: scrolling ${N} live tokens while ~${RATE} a second are renewed in the background, against no renewals; ${ROUNDS} interleaved rounds of ${FRAMES} frames at ${PX} px/frame`);
  console.log(`Chromium headless (software rendering), 1440×900; machine: ${cpus().length} cores, load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)} (per round: ${loads.map((l) => l.toFixed(1)).join(', ')})`);
  console.log('');
  console.log('build       renewals | frame median     p95     max | work median     p95 | Chromium task/frame | events/s | list_tokens  tokens_of (ids each)');
  const rows = [];
  for (const p of pages) {
    for (const mode of ['quiet', 'churn']) {
      const s = p[mode];
      const f = stats(s.frames);
      const w = stats(s.work);
      const task = (s.task * 1000) / s.count;
      rows.push({ p, mode, f, w, task });
      const per = s.reads.tokens_of ? (s.reads.ids / s.reads.tokens_of).toFixed(1) : '-';
      console.log(
        `${p.label.padEnd(11)} ${(mode === 'churn' ? `${RATE}/s` : 'none').padStart(8)} |      ${fmt(f.median)} ${fmt(f.p95)} ${fmt(f.max)} |    ${fmt(w.median)} ${fmt(w.p95)} |             ${fmt(task)} | ${String(Math.round(s.events / (s.seconds || 1))).padStart(8)} | ${String(s.reads.list_tokens).padStart(11)} ${String(s.reads.tokens_of).padStart(10)} (${per})`,
      );
    }
  }
  console.log('');
  for (const p of pages) {
    const q = rows.find((x) => x.p === p && x.mode === 'quiet');
    const c = rows.find((x) => x.p === p && x.mode === 'churn');
    console.log(
      `${p.label}: with renewals / without — Chromium task per frame ×${(c.task / q.task).toFixed(2)} (+${(c.task - q.task).toFixed(2)} ms), frame p95 ×${(c.f.p95 / q.f.p95).toFixed(2)}, work p95 ×${(c.w.p95 / q.w.p95).toFixed(2)}`,
    );
  }
  const problems = [];
  for (const p of pages) {
    problems.push(...p.errors, ...(await cspViolations(p.page)).map((v) => 'CSP: ' + v));
    const ok = p.churn.last.summary === `${N} of ${N} profiles hold a token`;
    if (!ok) problems.push(`${p.label}: after the renewals the dashboard says ${JSON.stringify(p.churn.last.summary)}`);
  }
  if (problems.length) console.log('page problems:\n  ' + problems.join('\n  '));
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  await browser.close();
  for (const s of servers) await s.close();
}
