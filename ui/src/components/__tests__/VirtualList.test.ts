// 10,000 live tokens and 10,000 profiles: only the rows in view (plus a few) are in the DOM,
// scrolling renders the rows that come into view, the countdowns of those rows are live, and the
// sidebar's filter narrows the list.
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { flushSync, tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));

import { clock } from '../../lib/clock.svelte';
import { desk } from '../../lib/desk.svelte';
import { itemAt, rangeFor } from '../../lib/virtual';
import { makeProfile, makeToken } from '../../test/fixtures';
import Dashboard from '../Dashboard.svelte';
import Sidebar from '../Sidebar.svelte';

// Setting up 10,000 profiles and tokens in happy-dom takes seconds on a loaded 2-core machine:
// more than vitest's default 5 s per test. What these tests check is what is rendered, not time.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const N = 10_000;
const VIEW = 610; // the scroller's height: 10 token rows of 61 px

let scroller: HTMLElement;

function setUp() {
  clock.set(T0);
  // happy-dom lays nothing out: give the scroller a height, and place the list at the top of its
  // content so that its box moves up as the scroller scrolls.
  scroller = document.createElement('div');
  scroller.style.overflowY = 'auto';
  Object.defineProperty(scroller, 'clientHeight', { configurable: true, get: () => VIEW });
  document.body.appendChild(scroller);
  vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(function (this: HTMLElement) {
    const top = this.hasAttribute('data-virtual-list') ? -scroller.scrollTop : 0;
    return DOMRect.fromRect({ x: 0, y: top, width: 800, height: 0 });
  });
  const pad = (i: number) => String(i).padStart(5, '0');
  desk.profiles = Array.from({ length: N }, (_, i) =>
    makeProfile({ id: `p${i}`, name: `Profile ${pad(i)}`, environment: i % 2 ? 'test' : 'prod', client_id: `client-${i}` }),
  );
  desk.tokens = Array.from({ length: N }, (_, i) =>
    makeToken({ profile_id: `p${i}`, obtained_at: T0 - 1_000, access_expires_at: T0 + (i + 1) * 1000 }),
  );
  desk.loaded = true;
}

function tearDown() {
  scroller.remove();
  clock.resume();
  clock.stop();
}

async function scrollTo(top: number) {
  scroller.scrollTop = top;
  await fireEvent.scroll(scroller);
  flushSync();
}

const cards = () => [...document.querySelectorAll<HTMLElement>('[data-testid^="token-card-"]')];

describe('the live list with 10,000 tokens', () => {
  beforeEach(setUp);
  afterEach(tearDown);
  it('renders only the rows in view plus the overscan, and the list keeps its full height', async () => {
    render(Dashboard, { target: scroller });
    await tick();
    flushSync();
    const shown = cards();
    // 10 rows in view, 6 below: the rows of a virtualised list, not 10,000.
    expect(shown.length).toBe(16);
    expect(shown[0].dataset.testid).toBe('token-card-Profile 00000');
    expect(shown.at(-1)!.dataset.testid).toBe('token-card-Profile 00015');
    const list = screen.getByRole('list', { name: 'Tokens' });
    expect(list.style.height).toBe(`${N * 61}px`);
    expect(within(list).getAllByRole('listitem')).toHaveLength(16);
  });

  it('scrolling shows the rows that come into view, placed at their offsets, with live countdowns', async () => {
    render(Dashboard, { target: scroller });
    await tick();
    await scrollTo(5000 * 61);
    const shown = cards();
    expect(shown.map((c) => c.dataset.testid)).toEqual(
      Array.from({ length: 22 }, (_, i) => `token-card-Profile ${String(4994 + i).padStart(5, '0')}`),
    );
    const row = shown.find((c) => c.dataset.testid === 'token-card-Profile 05000')!;
    expect(row.parentElement!.style.top).toBe(`${5000 * 61}px`);
    // Profile 05000's token expires 5,001 s after T0: 1:23:21.
    const text = () => row.querySelector('[data-testid="countdown-access"]')!.textContent;
    expect(text()).toBe('1:23:21');
    clock.set(T0 + 1000);
    flushSync();
    expect(text()).toBe('1:23:20');
    // To the end: the last row is there, nothing past it.
    await scrollTo(N * 61 - VIEW);
    expect(cards().at(-1)!.dataset.testid).toBe('token-card-Profile 09999');
    expect(cards().length).toBe(16);
  });

  it('keeps the focused row rendered when it scrolls out of view', async () => {
    render(Dashboard, { target: scroller });
    await tick();
    flushSync();
    const button = cards()[2].querySelector<HTMLButtonElement>('[data-testid="inspect"]')!;
    button.focus();
    flushSync();
    await scrollTo(3000 * 61);
    expect(document.activeElement).toBe(button);
    expect(button.isConnected).toBe(true);
    expect(cards()[0].dataset.testid).toBe('token-card-Profile 00002');
  });
});

describe('the sidebar with 10,000 profiles', () => {
  beforeEach(setUp);
  afterEach(tearDown);
  it('renders a window of the list, and the filter narrows it with headings and counts', async () => {
    render(Sidebar, { target: scroller });
    await tick();
    flushSync();
    const rows = () => [...document.querySelectorAll<HTMLElement>('[data-testid^="profile-row-"]')];
    expect(rows().length).toBeLessThan(60);
    expect(screen.getAllByRole('heading', { level: 2 })[0].textContent).toBe('prod5000');
    const input = screen.getByTestId('profile-filter');
    await fireEvent.input(input, { target: { value: 'client-777' } });
    flushSync();
    // client-777 and client-7770…7779.
    expect(rows().map((r) => r.dataset.testid)).toEqual([
      'profile-row-Profile 07770',
      'profile-row-Profile 07772',
      'profile-row-Profile 07774',
      'profile-row-Profile 07776',
      'profile-row-Profile 07778',
      'profile-row-Profile 00777',
      'profile-row-Profile 07771',
      'profile-row-Profile 07773',
      'profile-row-Profile 07775',
      'profile-row-Profile 07777',
      'profile-row-Profile 07779',
    ]);
    expect(screen.getAllByRole('heading', { level: 2 }).map((h) => h.textContent)).toEqual(['prod5', 'test6']);
    await fireEvent.input(input, { target: { value: 'nothing like it' } });
    flushSync();
    expect(rows()).toHaveLength(0);
    expect(screen.getByText('No profile matches “nothing like it”.')).toBeTruthy();
  });

  it('finds a renamed profile by its new name, not its old one, with the filter unchanged', async () => {
    desk.profiles = desk.profiles.slice(4200, 4300); // the search is made anew whatever the size
    render(Sidebar, { target: scroller });
    await tick();
    flushSync();
    const rows = () => [...document.querySelectorAll<HTMLElement>('[data-testid^="profile-row-"]')].map((r) => r.dataset.testid);
    const input = screen.getByTestId('profile-filter');
    await fireEvent.input(input, { target: { value: 'renamed' } });
    flushSync();
    expect(rows()).toEqual([]);
    await fireEvent.input(input, { target: { value: 'profile 04242' } });
    flushSync();
    expect(rows()).toEqual(['profile-row-Profile 04242']);
    desk.putProfile({ ...desk.profileById.get('p4242')!, name: 'Renamed one' });
    flushSync();
    expect(rows()).toEqual([]); // the same query, searched again in the new profiles
    await fireEvent.input(input, { target: { value: 'renamed' } });
    flushSync();
    expect(rows()).toEqual(['profile-row-Renamed one']);
  });
});

describe('the range arithmetic', () => {
  const offsets = [0, 30, 60, 100, 130];
  it('finds the item at a position', () => {
    expect([0, 29, 30, 99, 100, 500, -5].map((y) => itemAt(offsets, y))).toEqual([0, 0, 1, 2, 3, 3, 0]);
  });
  it('takes the items overlapping the view plus the overscan, within bounds', () => {
    expect(rangeFor(offsets, 35, 30, 0)).toEqual([1, 3]);
    // An item starting at the bottom edge is not in view.
    expect(rangeFor(offsets, 0, 60, 0)).toEqual([0, 2]);
    expect(rangeFor(offsets, 35, 30, 1)).toEqual([0, 4]);
    expect(rangeFor(offsets, 0, 1000, 5)).toEqual([0, 4]);
    expect(rangeFor([0], 0, 100, 2)).toEqual([0, 0]);
  });
});

describe('measured heights', () => {
  it('places the items below a taller one by its measured height', async () => {
    const observed: Element[] = [];
    // The first observer a list makes is the one that measures its items.
    let callback: ResizeObserverCallback | null = null;
    vi.stubGlobal(
      'ResizeObserver',
      class {
        constructor(cb: ResizeObserverCallback) {
          callback ??= cb;
        }
        observe(e: Element) {
          observed.push(e);
        }
        unobserve() {}
        disconnect() {}
      },
    );
    setUp();
    try {
      desk.tokens = desk.tokens.slice(0, 5);
      render(Dashboard, { target: scroller });
      await tick();
      flushSync();
      const items = [...document.querySelectorAll<HTMLElement>('.vitem')];
      expect(items.map((e) => e.style.top)).toEqual(['0px', '61px', '122px', '183px', '244px']);
      // The second row is taller (a note below it): the rows after it move down.
      const rows = observed.filter((e) => e.classList.contains('vitem')) as HTMLElement[];
      callback!(
        rows.map((e, i) => ({ target: e, borderBoxSize: [{ blockSize: i === 1 ? 95 : 61, inlineSize: 800 }] }) as unknown as ResizeObserverEntry),
        {} as ResizeObserver,
      );
      flushSync();
      expect(items.map((e) => e.style.top)).toEqual(['0px', '61px', '156px', '217px', '278px']);
    } finally {
      tearDown();
      vi.unstubAllGlobals();
    }
  });
});
