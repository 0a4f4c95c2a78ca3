import { paraglideVitePlugin } from '@inlang/paraglide-js';
import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { PARAGLIDE } from './paraglide.config.js';

const apiTarget = `http://localhost:${process.env.PORT ?? 8787}`;

// --- On-device inference (src/lib/inference) -------------------------------------------------
// The published models (../models, listed by models/index.json) are served at /models/ in dev and
// copied into the build there, so the app fetches them from its own origin and precaches them.
// FIELDDX_MODELS_DIR points elsewhere (e.g. models trained into a scratch folder).
const modelsDir =
  process.env.FIELDDX_MODELS_DIR ?? fileURLToPath(new URL('../models/', import.meta.url));

/**
 * index.json, then each listed manifest, its model file and its input check (when it names one),
 * as paths relative to models/.
 */
function publishedModelFiles(): string[] {
  const indexPath = join(modelsDir, 'index.json');
  if (!existsSync(indexPath)) return [];
  const index = JSON.parse(readFileSync(indexPath, 'utf8'));
  const entries: { path: string }[] = Array.isArray(index) ? index : (index.models ?? []);
  return [
    'index.json',
    ...entries.flatMap(({ path }) => {
      const manifest = JSON.parse(readFileSync(join(modelsDir, path), 'utf8'));
      const check: string | undefined = manifest.input?.image?.check;
      return [
        path,
        `${dirname(path)}/${manifest.file}`,
        ...(check ? [`${dirname(path)}/${check}`] : []),
      ];
    }),
  ];
}

function publishedModels(): Plugin {
  return {
    name: 'fielddx-published-models',
    configureServer(server) {
      server.middlewares.use('/models', (req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').replace(/^\/+/, '');
        if (!publishedModelFiles().includes(path)) return next();
        const type = path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
        res.setHeader('content-type', type);
        res.end(readFileSync(join(modelsDir, path)));
      });
    },
    generateBundle() {
      if (this.environment.name !== 'client') return;
      const files = publishedModelFiles();
      if (!files.length) this.warn('models/index.json not found: the build has no models');
      for (const path of files) {
        const source = readFileSync(join(modelsDir, path));
        this.emitFile({ type: 'asset', fileName: `models/${path}`, source });
      }
    },
  };
}
/** The WebGPU build's WASM (see src/lib/inference/runtimes.ts): cached on first use, not precached. */
const WEBGPU_ORT_WASM = 'ort-wasm-simd-threaded.jspi';
// ----------------------------------------------------------------------------------------------

export default defineConfig({
  plugins: [
    // i18n: compiles messages/*.json into src/lib/paraglide (see src/lib/i18n).
    paraglideVitePlugin(PARAGLIDE),
    publishedModels(),
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
        globPatterns: [
          'client/**/*.{js,mjs,css,html,ico,png,svg,webmanifest,wasm}',
          // Inference: the published models (the ORT WASM is matched above).
          'client/models/**/*.{json,onnx}',
        ],
        // Inference: the WebGPU build of ORT (16.8 MB) is only used by devices with WebGPU and
        // JSPI, so it is cached when first used (below) instead of downloaded by every device; the
        // CPU build, which every device can run, is precached.
        globIgnores: [`client/**/${WEBGPU_ORT_WASM}-*.wasm`],
        runtimeCaching: [
          {
            urlPattern: new RegExp(`/${WEBGPU_ORT_WASM.replaceAll('.', '\\.')}-[^/]+\\.wasm$`),
            handler: 'CacheFirst',
            options: {
              cacheName: 'fielddx-ort-webgpu',
              // Hashed file names: a new version replaces the old one instead of adding to it.
              expiration: { maxEntries: 1 },
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
        // Inference: onnxruntime-web's CPU WASM is 14.2 MB; workbox's default limit is 2 MiB. Kept
        // close above it so a much larger precached file fails the build instead of slipping in.
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        navigateFallbackDenylist: [/^\/api\//],
        cleanupOutdatedCaches: true,
        // The first install takes charge of the open page at once, so one visit is enough to work offline.
        clientsClaim: true,
      },
      kit: { spa: true, adapterFallback: 'index.html' },
    }),
  ],
  server: { proxy: { '/api': apiTarget } },
  // Inference: the worker splits onnxruntime-web into its own chunk; its WASM is not pre-bundled.
  // No <link rel="modulepreload"> per dependency of each route chunk (Vite's preload helper adds
  // them from the main thread at every start, ~40 links): the service worker serves them anyway.
  build: { modulePreload: false },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
