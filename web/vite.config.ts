import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { defineConfig } from 'vite';

const apiTarget = `http://localhost:${process.env.PORT ?? 8787}`;

export default defineConfig({
  plugins: [
    sveltekit(),
    SvelteKitPWA({
      strategies: 'generateSW',
      // Never reload on its own: the user is offered the update (see lib/pwa) and picks the moment.
      registerType: 'prompt',
      injectRegister: false,
      manifestFilename: 'manifest.webmanifest',
      manifest: {
        name: 'FieldDx',
        short_name: 'FieldDx',
        description: 'Offline-first diagnosis assistant for field clinicians',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        background_color: '#f6f8f7',
        theme_color: '#0f5c4d',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          {
            src: '/icons/icon-maskable-512.png',
            sizes: '512x512',
            type: 'image/png',
            purpose: 'maskable',
          },
        ],
      },
      workbox: {
        globPatterns: ['client/**/*.{js,mjs,css,html,ico,png,svg,webmanifest,wasm}'],
        navigateFallbackDenylist: [/^\/api\//],
        cleanupOutdatedCaches: true,
        // The first install takes charge of the open page at once, so one visit is enough to work offline.
        clientsClaim: true,
      },
      kit: { spa: true, adapterFallback: 'index.html' },
    }),
  ],
  server: { proxy: { '/api': apiTarget } },
});
