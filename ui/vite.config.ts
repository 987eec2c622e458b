/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { firstFrame } from './build/firstFrame.ts';

// The Tauri shell embeds `dist/`. Everything is bundled: no CDN, no external font, no inline
// script or style (the app runs under a strict CSP, see src/csp.test.ts).
export default defineConfig(({ mode }) => ({
  base: './',
  plugins: [svelte(), svelteTesting(), firstFrame()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: '127.0.0.1',
  },
  build: {
    outDir: 'dist',
    target: 'es2022',
    emptyOutDir: true,
    // Nothing may be inlined as a data: script; small assets are fine as data: images.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  define: {
    // `npm run dev:mock` runs the UI in a normal browser against an in-memory backend.
    __TOKENDESK_MOCK__: JSON.stringify(mode === 'mock'),
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts', 'build/**/*.test.ts'],
    restoreMocks: true,
  },
}));
