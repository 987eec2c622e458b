// The build step that puts the app's first frame into index.html (build/firstFrame.ts).
import { describe, expect, it } from 'vitest';
import { FALLBACK_MS, renderShell, shellMarkup, withFirstFrame } from './firstFrame';

const BUILT = `<!doctype html>
<html lang="en">
  <head>
    <title>TokenDesk</title>
    <script type="module" crossorigin src="./assets/index-abc.js"></script>
    <link rel="modulepreload" crossorigin href="./assets/shared-def.js">
    <link rel="stylesheet" crossorigin href="./assets/index-ghi.css">
  </head>
  <body>
    <div id="app"></div>
  </body>
</html>`;

describe('the first frame in index.html', () => {
  it('puts the shell into #app, inert, and starts the scripts from a loader after the first paint', () => {
    const page = withFirstFrame(BUILT, '<div class="app">Loading…</div>');
    expect(page.html).toContain('<div id="app" inert><div class="app">Loading…</div></div>');
    // No module script or preload left in the page itself: they would hold back the first paint.
    expect(page.html).not.toMatch(/type="module"|modulepreload/);
    expect(page.html).toContain(`<script defer src="./${page.loader.file}"></script>`);
    expect(page.html.match(/<script\b/g)).toHaveLength(1);
    // The stylesheet stays: the first frame needs it.
    expect(page.html).toContain('href="./assets/index-ghi.css"');
    expect(page.loader.file).toMatch(/^assets\/first-frame-[0-9a-f]{8}\.js$/);
    // The loader starts the same entry and preloads, after load and a frame (or a timer).
    expect(page.loader.text).toContain('"./assets/index-abc.js"');
    expect(page.loader.text).toContain('["./assets/shared-def.js"]');
    expect(() => new Function(page.loader.text)).not.toThrow();
  });

  it('refuses a page it does not understand rather than writing a broken one', () => {
    expect(() => withFirstFrame(BUILT.replace(/<script[^>]*><\/script>/, ''), 'x')).toThrow(/one module script/);
    expect(() => withFirstFrame(BUILT.replace('<div id="app"></div>', ''), 'x')).toThrow(/#app|id="app"/);
  });

  it('strips what a static copy must not have: comments, style attributes, ids, test ids', () => {
    const shell = shellMarkup(
      '<!--[--><div class="a" id="main" style="height: 0px;" data-testid="x" data-id="keep">' +
        '<label for="f">F</label><h1 id="t">T</h1><section aria-labelledby="t"></section></div><!--]-->',
    );
    expect(shell).toBe('<div class="a" data-id="keep"><label>F</label><h1>T</h1><section></section></div>');
    expect(() => shellMarkup('<script>x()</script>')).toThrow(/script/);
    expect(() => shellMarkup('<!---->')).toThrow(/nothing/);
  });

  it("renders the app's real opening state on the server", async () => {
    const shell = await renderShell(process.cwd());
    // The shell and the dashboard, as the app's first frame shows them.
    expect(shell).toContain('TokenDesk');
    expect(shell).toContain('Live tokens');
    expect(shell).toContain('New profile');
    expect(shell).toContain('Loading…');
    expect(shell).toMatch(/class="app svelte-[a-z0-9]+"/);
    expect(shell).not.toMatch(/\s(style|id|data-testid)="/);
  }, 60_000);

  describe('the loader', () => {
    /** Runs the loader against a page of its own: the events, frames and timers it waits for are
     *  fired by the test, and `started()` says whether it has put the app's scripts in. */
    function loadPage(visibility: 'visible' | 'hidden') {
      const { loader } = withFirstFrame(BUILT, '<div class="app">Loading…</div>');
      const listeners: Record<string, (() => void)[]> = {};
      const on = (type: string, f: () => void) => (listeners[type] ??= []).push(f);
      let frames: (() => void)[] = [];
      let tasks: { at: number; run: () => void }[] = [];
      let now = 0;
      const head: { tag: string; rel?: string; src?: string; href?: string; type?: string }[] = [];
      const document = {
        visibilityState: visibility,
        addEventListener: on,
        createElement: (tag: string) => ({ tag }),
        head: { append: (el: (typeof head)[number]) => head.push(el) },
      };
      new Function('addEventListener', 'requestAnimationFrame', 'setTimeout', 'document', loader.text)(
        on,
        (f: () => void) => frames.push(f),
        (f: () => void, ms = 0) => tasks.push({ at: now + ms, run: f }),
        document,
      );
      const fire = (type: string) => listeners[type]?.forEach((f) => f());
      return {
        document,
        load: () => fire('load'),
        fire,
        /** The compositor draws a frame: the callbacks waiting for it run. */
        frame: () => {
          const due = frames;
          frames = [];
          due.forEach((f) => f());
        },
        /** Time passes: the timers due run, in order. */
        advance: (ms: number) => {
          now += ms;
          const due = tasks.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
          tasks = tasks.filter((t) => t.at > now);
          due.forEach((t) => t.run());
        },
        started: () => head.some((el) => el.tag === 'script'),
        head,
      };
    }

    it('starts the scripts only once the first frame has been drawn: the second animation frame, then a task', () => {
      const page = loadPage('visible');
      page.advance(0);
      expect(page.started()).toBe(false);
      page.load();
      page.advance(0);
      expect(page.started()).toBe(false);
      // The first animation frame runs before the first frame is drawn: still too early.
      page.frame();
      page.advance(0);
      expect(page.started()).toBe(false);
      page.frame();
      expect(page.started()).toBe(false);
      page.advance(0);
      expect(page.started()).toBe(true);
      expect(page.head).toEqual([
        { tag: 'link', rel: 'modulepreload', crossOrigin: '', href: './assets/shared-def.js' },
        { tag: 'script', type: 'module', crossOrigin: '', src: './assets/index-abc.js' },
      ]);
      // Once only: the timer that would have started them changes nothing.
      page.advance(FALLBACK_MS);
      expect(page.head).toHaveLength(2);
    });

    it('starts them after a while in any case, when no frame comes', () => {
      const page = loadPage('visible');
      page.load();
      page.advance(FALLBACK_MS - 1);
      expect(page.started()).toBe(false);
      page.advance(1);
      expect(page.started()).toBe(true);
    });

    it('starts them at once in a window that is not on screen (a start in the tray), or that goes out of sight', () => {
      const hidden = loadPage('hidden');
      hidden.load();
      expect(hidden.started()).toBe(true);

      const page = loadPage('visible');
      page.load();
      page.frame();
      expect(page.started()).toBe(false);
      page.document.visibilityState = 'hidden';
      page.fire('visibilitychange');
      expect(page.started()).toBe(true);
    });
  });
});
