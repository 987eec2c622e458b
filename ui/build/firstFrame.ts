// The window's first frame as HTML: `vite build` renders the app's opening state (the shell, the
// dashboard saying "Loading…") with `svelte/server` into `dist/index.html`, and the app's scripts
// load only once that frame is on screen.
//
// Why (bench/startup/README.md, "the first frame in the page"): WebKit painted nothing of the page
// until it had fetched, compiled and run the module script in its <head>, however much HTML there
// was to paint (measured: session 12 prerendered the frame and kept the script there, no gain).
// With the scripts started after the first paint, the frame shows 25–55 ms sooner (median of
// paired rounds) and the app is ready when it was before.
//
// The prerendered shell is inert (no clicks, no focus, not in the accessibility tree), carries no
// ids and no test ids (nothing can find it instead of the real one), and has no style attributes
// (the CSP allows none). `main.ts` clears it in the same task that mounts the app, so the two are
// never on screen together.
import { writeFileSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

/** What the page starts with once the first frame is prerendered. */
export interface FirstFramePage {
  /** `index.html` with the shell in `#app` and the scripts deferred. */
  html: string;
  /** The loader's file name under the output directory, and its text. */
  loader: { file: string; text: string };
}

const MODULE_SCRIPT = /\s*<script type="module" crossorigin src="([^"]+)"><\/script>/g;
const MODULE_PRELOAD = /\s*<link rel="modulepreload" crossorigin href="([^"]+)">/g;
const MOUNT_POINT = '<div id="app"></div>';

/** The server-rendered markup made fit for a static first frame (see the file's comment). */
export function shellMarkup(rendered: string): string {
  const shell = rendered
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\s(style|id|data-testid|for|aria-labelledby|aria-controls|aria-describedby)="[^"]*"/g, '')
    .trim();
  if (/<script|<style|<link/i.test(shell)) {
    throw new Error('first frame: the rendered shell has a script, style or link element');
  }
  if (!shell) throw new Error('first frame: the app rendered nothing');
  return shell;
}

/** The built `index.html` with `shell` as its first frame and its module scripts started by a
 *  small classic script after that frame has painted. */
export function withFirstFrame(builtHtml: string, shell: string): FirstFramePage {
  const entries = [...builtHtml.matchAll(MODULE_SCRIPT)].map((m) => m[1]);
  if (entries.length !== 1) {
    throw new Error(`first frame: expected one module script in index.html, found ${entries.length}`);
  }
  if (builtHtml.split(MOUNT_POINT).length !== 2) {
    throw new Error(`first frame: expected one empty ${MOUNT_POINT} in index.html`);
  }
  const preloads = [...builtHtml.matchAll(MODULE_PRELOAD)].map((m) => m[1]);
  const text = loaderText(entries[0], preloads);
  const file = `assets/first-frame-${createHash('sha256').update(text).digest('hex').slice(0, 8)}.js`;
  const html = builtHtml
    .replace(MODULE_SCRIPT, '')
    .replace(MODULE_PRELOAD, '')
    .replace('</head>', `  <script defer src="./${file}"></script>\n  </head>`)
    .replace(MOUNT_POINT, `<div id="app" inert>${shell}</div>`);
  return { html, loader: { file, text } };
}

/** The loader starts the scripts after this long in any case (a frame that never comes). */
export const FALLBACK_MS = 1000;

/** Starts the app's scripts once the first frame is on screen: after `load`, the second animation
 *  frame (WebKit runs it only once the compositor has drawn the first; `src/lib/onScreen.ts` waits
 *  the same way in the app) and a task. Started any earlier, compiling the scripts competes with
 *  the compositor's first frame for the CPU and the paint comes later (measured:
 *  bench/startup/README.md, session 14). A window that is not on screen gets no animation frames
 *  and has no frame to wait for: the scripts start at once, and a timer starts them in any case. */
function loaderText(entry: string, preloads: string[]): string {
  return `// Written by ui/build/firstFrame.ts: the app's scripts start once its first frame is on screen.
(() => {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    for (const href of ${JSON.stringify(preloads)}) {
      const link = document.createElement('link');
      link.rel = 'modulepreload';
      link.crossOrigin = '';
      link.href = href;
      document.head.append(link);
    }
    const script = document.createElement('script');
    script.type = 'module';
    script.crossOrigin = '';
    script.src = ${JSON.stringify(entry)};
    document.head.append(script);
  };
  const startIfHidden = () => {
    if (document.visibilityState === 'hidden') start();
  };
  addEventListener('load', () => {
    requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(start)));
    startIfHidden();
    document.addEventListener('visibilitychange', startIfHidden);
    setTimeout(start, ${FALLBACK_MS});
  });
})();
`;
}

/** Renders the app's opening state with `svelte/server`, in a throwaway Vite server with the
 *  Svelte plugin (the same compiler options, so the same scoped class names as the build). */
export async function renderShell(root: string): Promise<string> {
  const { createServer } = await import('vite');
  const { svelte } = await import('@sveltejs/vite-plugin-svelte');
  const server = await createServer({
    root,
    configFile: false,
    plugins: [svelte()],
    server: { middlewareMode: true, hmr: false, ws: false },
    appType: 'custom',
    logLevel: 'error',
    define: { __TOKENDESK_MOCK__: 'false' },
  });
  try {
    const { render } = await server.ssrLoadModule('svelte/server');
    const { default: App } = await server.ssrLoadModule('/src/App.svelte');
    return shellMarkup(render(App, {}).body);
  } finally {
    await server.close();
  }
}

/** The build step: rewrites `dist/index.html` and writes the loader next to the assets. */
export function firstFrame(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'tokendesk-first-frame',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    async closeBundle() {
      const outDir = join(config.root, config.build.outDir);
      const index = join(outDir, 'index.html');
      const page = withFirstFrame(readFileSync(index, 'utf8'), await renderShell(config.root));
      writeFileSync(join(outDir, page.loader.file), page.loader.text);
      writeFileSync(index, page.html);
    },
  };
}
