// The app runs under `default-src 'self'; script-src 'self'; style-src 'self'; ...`: no inline
// scripts or style attributes, no {@html}, nothing remote. This test reads the sources.
import { describe, expect, it } from 'vitest';
import indexHtml from '../index.html?raw';
import { readSource } from './test/source';

const components = import.meta.glob<string>('./**/*.svelte', { query: '?raw', import: 'default', eager: true });
// The style sheets' names from the glob, their text from disk (vitest gives CSS modules as '').
const styles = Object.fromEntries(
  Object.keys(import.meta.glob('./**/*.css')).map((f) => [f, readSource(f)]),
);

function markup(svelte: string): string {
  // Template and markup only: drop <script> and <style> blocks.
  return svelte.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<style[\s\S]*?<\/style>/g, '');
}

describe('content security policy', () => {
  it('finds the components', () => {
    expect(Object.keys(components).length).toBeGreaterThan(10);
    expect(Object.keys(styles)).toContain('./app.css');
    expect(styles['./app.css'], 'the text itself, not an empty module').toMatch(/--font-ui:/);
  });

  it('has no style="…" attribute strings and no {@html} in any template', () => {
    for (const [f, text] of Object.entries(components)) {
      const m = markup(text);
      expect(m, f).not.toMatch(/\sstyle\s*=/);
      expect(m, f).not.toMatch(/\{@html/);
      expect(m, f).not.toMatch(/\son[a-z]+\s*=\s*"/); // inline handler strings
    }
  });

  it('loads nothing remote and has no inline script or style in index.html', () => {
    const scripts = [...indexHtml.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src=/);
      expect(body.trim()).toBe('');
    }
    expect(indexHtml).not.toMatch(/<style/);
    expect(indexHtml).not.toMatch(/\sstyle\s*=/);
    expect(indexHtml).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const [f, text] of Object.entries({ ...components, ...styles })) {
      expect(text, f).not.toMatch(/url\(\s*['"]?(https?:)?\/\//);
      expect(text, f).not.toMatch(/@import/);
      expect(text, f).not.toMatch(/@font-face/);
    }
  });
});
