// The build step that puts the app's first frame into index.html (build/firstFrame.ts).
import { describe, expect, it } from 'vitest';
import { renderShell, shellMarkup, withFirstFrame } from './firstFrame';

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
    expect(page.loader.text).toMatch(/addEventListener\('load'/);
    expect(page.loader.text).toMatch(/requestAnimationFrame/);
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
});
