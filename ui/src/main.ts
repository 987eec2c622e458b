import { flushSync, mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { clock } from './lib/clock.svelte';

declare global {
  interface Window {
    /** Test hook: end-to-end tests and the tick benchmark drive the shared clock. */
    __tokendesk?: { clock: typeof clock; flush: typeof flushSync };
  }
  const __TOKENDESK_MOCK__: boolean;
}

window.__tokendesk = { clock, flush: flushSync };

async function start() {
  if (__TOKENDESK_MOCK__) {
    // `npm run dev:mock`: an in-memory backend with demo data, for working on the UI in a browser.
    const { installMockBackend } = await import('./mock/backend');
    const { demoData } = await import('./mock/demo');
    installMockBackend(demoData(Date.now()));
  }
  const target = document.getElementById('app');
  if (!target) throw new Error('#app missing from index.html');
  // The built page's first frame, prerendered (build/firstFrame.ts), gives way to the app in the
  // same task, so the two are never on screen together.
  target.replaceChildren();
  target.removeAttribute('inert');
  mount(App, { target });
}

void start();
