// What lies over what: the layers are named once, in app.css, and every overlay uses its name.
// A notice (toast) must never cover a modal dialog: a refresh failing in the background put two
// of them over the import dialog's Import button, which could then not be clicked.
import { describe, expect, it } from 'vitest';
import { readSource } from './test/source';

const appCss = readSource('app.css');

const components = import.meta.glob<string>('./components/*.svelte', { query: '?raw', import: 'default', eager: true });

function layer(name: string): number {
  const m = appCss.match(new RegExp(`--z-${name}:\\s*(\\d+);`));
  if (!m) throw new Error(`--z-${name} is not defined in app.css`);
  return Number(m[1]);
}

function zIndexes(file: string): string[] {
  const text = components[`./components/${file}`];
  if (text === undefined) throw new Error(`${file} not found`);
  return [...text.matchAll(/z-index:\s*([^;]+);/g)].map((m) => m[1].trim());
}

describe('stacking order', () => {
  it('puts menus under notices, notices under modal dialogs, the palette on top', () => {
    expect(layer('menu')).toBeLessThan(layer('toast'));
    expect(layer('toast')).toBeLessThan(layer('modal'));
    expect(layer('modal')).toBeLessThan(layer('palette'));
  });

  it('has every overlay use its layer', () => {
    expect(zIndexes('Toasts.svelte')).toEqual(['var(--z-toast)']);
    expect(zIndexes('ConfirmDialog.svelte')).toEqual(['var(--z-modal)']);
    expect(zIndexes('ImportDialog.svelte')).toEqual(['var(--z-modal)']);
    expect(zIndexes('Palette.svelte')).toEqual(['var(--z-palette)']);
    expect(zIndexes('CopyMenu.svelte')).toEqual(['var(--z-menu)']);
  });

  it('lets no other component climb over the notices with a number of its own', () => {
    for (const [file, text] of Object.entries(components)) {
      for (const [, value] of text.matchAll(/z-index:\s*(\d+)\s*;/g)) {
        expect(Number(value), file).toBeLessThan(layer('menu'));
      }
    }
  });
});
