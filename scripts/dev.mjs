// `pnpm dev`: the API server with reload on change, and Vite's dev server (which proxies /api).
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const children = [
  // The browser talks to Vite (default port 5173), so that is the origin writes come from.
  spawn('pnpm', ['--filter', 'sync-server', 'dev'], {
    cwd: root,
    stdio: 'inherit',
    env: { PUBLIC_ORIGIN: 'http://localhost:5173', ...process.env },
  }),
  spawn('pnpm', ['--filter', 'web', 'dev'], { cwd: root, stdio: 'inherit' }),
];
const stop = () => children.forEach((child) => child.kill('SIGTERM'));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const child of children)
  child.on('exit', (code) => {
    stop();
    process.exitCode = code ?? 0;
  });
