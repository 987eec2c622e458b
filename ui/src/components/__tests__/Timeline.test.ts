// The history timeline: a bar per token life, marks for what happened, failures in red with
// their error, zoom, and a click (or Enter) that asks for the mark's exchange-log entry.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';

import { MIN, T0, makeEvent, signInStory } from '../../test/events';
import Timeline from '../Timeline.svelte';

const now = T0 + 30 * MIN;
const marks = () => screen.getAllByTestId('timeline-mark');

describe('timeline', () => {
  it('draws a bar per token life and a mark per event', () => {
    render(Timeline, { props: { events: signInStory(), now, onopen: vi.fn() } });
    const bars = screen.getAllByTestId('timeline-life');
    expect(bars.map((b) => b.getAttribute('data-ending'))).toEqual(['replaced', 'live']);
    // The replaced token's bar ends where the next one begins.
    const [a, b] = bars.map((r) => [Number(r.getAttribute('x')), Number(r.getAttribute('width'))]);
    expect(a[0] + a[1]).toBeCloseTo(b[0], 3);
    expect(marks().map((m) => `${m.getAttribute('data-kind')}:${m.getAttribute('data-outcome')}`)).toEqual([
      'acquisition:success',
      'refresh:success',
      'acquisition:success',
      'refresh:failure',
    ]);
  });

  it('a failure mark carries its error, in its label and on hover', async () => {
    render(Timeline, { props: { events: signInStory(), now, onopen: vi.fn() } });
    const failed = marks().find((m) => m.getAttribute('data-outcome') === 'failure')!;
    expect(failed.getAttribute('class')).toContain('failed');
    expect(failed.getAttribute('aria-label')).toContain('invalid_grant');
    expect(failed.getAttribute('aria-label')).toContain('Sign in again');
    expect(screen.queryByTestId('timeline-tip')).toBeNull();
    await fireEvent.mouseEnter(failed);
    expect(screen.getByTestId('timeline-tip-error').textContent).toContain('The provider refused the refresh token');
    await fireEvent.mouseLeave(failed);
    expect(screen.queryByTestId('timeline-tip')).toBeNull();
  });

  it('zooms to an hour, a day and a week', async () => {
    const events = [...signInStory(), makeEvent({ id: 9, at: now - 3 * 24 * 60 * MIN, kind: 'acquisition', method: 'client_credentials' })];
    render(Timeline, { props: { events, now, onopen: vi.fn() } });
    expect(marks()).toHaveLength(5);
    await fireEvent.click(screen.getByTestId('timeline-zoom-hour'));
    expect(screen.getByTestId('timeline-zoom-hour').getAttribute('aria-pressed')).toBe('true');
    expect(marks()).toHaveLength(4);
    expect(screen.getByTestId('timeline-range').textContent).toContain('1 event outside');
    await fireEvent.click(screen.getByTestId('timeline-zoom-day'));
    expect(marks()).toHaveLength(4);
    await fireEvent.click(screen.getByTestId('timeline-zoom-week'));
    expect(marks()).toHaveLength(5);
    // Earlier / later move the window by half its span.
    await fireEvent.click(screen.getByTestId('timeline-zoom-hour'));
    const range = screen.getByTestId('timeline-range').textContent;
    expect((screen.getByTestId('timeline-later') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('timeline-earlier'));
    expect(screen.getByTestId('timeline-range').textContent).not.toBe(range);
    await fireEvent.click(screen.getByTestId('timeline-later'));
    expect(screen.getByTestId('timeline-range').textContent).toBe(range);
  });

  it('a click or Enter asks for the mark’s exchange; a mark without one asks nothing', async () => {
    const onopen = vi.fn();
    const events = [...signInStory(), makeEvent({ id: 5, at: T0 + 27 * MIN, exchange_id: null })];
    render(Timeline, { props: { events, now, onopen } });
    const byId = (id: string) => marks().find((m) => m.getAttribute('data-exchange') === id)!;
    await fireEvent.click(byId('21'));
    expect(onopen).toHaveBeenLastCalledWith(21);
    await fireEvent.keyDown(byId('41'), { key: 'Enter' });
    expect(onopen).toHaveBeenLastCalledWith(41);
    onopen.mockClear();
    await fireEvent.click(byId(''));
    expect(onopen).not.toHaveBeenCalled();
  });

  it('is keyboard reachable: one mark in the tab order, arrows move between marks', async () => {
    render(Timeline, { props: { events: signInStory(), now, onopen: vi.fn() } });
    const tabbable = marks().filter((m) => m.getAttribute('tabindex') === '0');
    expect(tabbable).toHaveLength(1);
    expect(tabbable[0].getAttribute('data-exchange')).toBe('41');
    tabbable[0].focus();
    await fireEvent.keyDown(tabbable[0], { key: 'ArrowLeft' });
    await new Promise((r) => setTimeout(r, 0));
    expect(document.activeElement?.getAttribute('data-exchange')).toBe('31');
    expect(screen.getByTestId('timeline-tip').textContent).toContain('sign-in');
  });
});
