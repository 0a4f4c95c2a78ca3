import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // A pure SPA: the server returns index.html for every non-API path.
    adapter: adapter({ fallback: 'index.html', precompress: false }),
    serviceWorker: { register: false },
  },
};

export default config;
