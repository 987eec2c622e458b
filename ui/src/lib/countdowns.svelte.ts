// Every countdown on screen, painted by ONE effect on the shared clock (the tick effect). A tick runs a plain loop:
// per countdown it formats the text and writes it only if it changed, moves the bar (a transform,
// quantised to 1/400 so sub-pixel changes are skipped) and flips a data attribute when the
// colour band changes. No component re-renders, no per-row reactive graph, no timer per row.

import { untrack } from 'svelte';
import { clock } from './clock.svelte';
import { type BarLevel, barLevel, formatCountdown, remainingFraction } from './time';

export interface CountdownParams {
  /** Start of the lifetime (epoch ms), for the bar. */
  start: number;
  /** Expiry (epoch ms); null: no expiry known. */
  expires: number | null;
}

interface Entry extends CountdownParams {
  root: HTMLElement;
  text: Text;
  fill: HTMLElement | null;
  lastText: string;
  lastLevel: BarLevel | '';
  lastScale: number;
}

/** Bar resolution: a bar is at most ~200 px wide, so finer steps would not show. */
const SCALE_STEPS = 400;

const entries = new Set<Entry>();
const hooks = new Set<(now: number) => void>();
let stopEffect: (() => void) | null = null;

function paint(e: Entry, now: number): void {
  const text = formatCountdown(e.expires === null ? null : e.expires - now);
  if (text !== e.lastText) {
    e.text.nodeValue = text;
    e.lastText = text;
  }
  const f = remainingFraction(e.start, e.expires, now);
  const level = barLevel(f);
  if (level !== e.lastLevel) {
    e.root.dataset.level = level;
    e.lastLevel = level;
  }
  if (e.fill) {
    const scale = Math.round((f ?? 0) * SCALE_STEPS) / SCALE_STEPS;
    if (scale !== e.lastScale) {
      e.fill.style.transform = `scaleX(${scale})`;
      e.lastScale = scale;
    }
  }
}

function ensureEffect(): void {
  if (stopEffect) return;
  stopEffect = $effect.root(() => {
    $effect(() => {
      const now = clock.now;
      for (const e of entries) paint(e, now);
      untrack(() => {
        for (const h of hooks) h(now);
      });
    });
  });
}

/**
 * Runs `fn` on every tick, inside the one tick effect (e.g. to notice that a token crossed a
 * threshold). Returns the function that removes it.
 */
export function onTick(fn: (now: number) => void): () => void {
  hooks.add(fn);
  ensureEffect();
  return () => hooks.delete(fn);
}

/** How many countdowns are registered (tests, diagnostics). */
export function countdownCount(): number {
  return entries.size;
}

/**
 * Svelte action for a countdown: the node holds a `[data-cd-text]` element for the text and,
 * optionally, a `[data-cd-fill]` element for the bar.
 */
export function countdown(node: HTMLElement, params: CountdownParams) {
  const textHost = node.querySelector<HTMLElement>('[data-cd-text]') ?? node;
  const text = document.createTextNode('');
  textHost.replaceChildren(text);
  const e: Entry = {
    ...params,
    root: node,
    text,
    fill: node.querySelector<HTMLElement>('[data-cd-fill]'),
    lastText: '',
    lastLevel: '',
    lastScale: -1,
  };
  paint(e, untrack(() => clock.now));
  entries.add(e);
  ensureEffect();
  return {
    update(p: CountdownParams) {
      e.start = p.start;
      e.expires = p.expires;
      paint(e, untrack(() => clock.now));
    },
    destroy() {
      entries.delete(e);
    },
  };
}
