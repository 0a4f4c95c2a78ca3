// `pnpm dev`: the API server with reload on change, and Vite's dev server (which proxies /api).
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const children = [
  spawn('pnpm', ['--filter', 'sync-server', 'dev'], { cwd: root, stdio: 'inherit' }),
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
