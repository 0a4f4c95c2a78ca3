import { serve } from '@hono/node-server';
import { connect } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp } from '../app';
import { openDatabase } from '../db/connection';
import type { Logger, LogFields } from '../logger';
import { ORIGIN, testEnv, testPasswords } from '../test-utils';
import { sqliteRepositories } from '../repositories/sqlite';

/** A real HTTP server (the parser is Node's, not app.request's) with a logger that keeps lines. */
async function realServer() {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const keep =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      lines.push({ level, msg, fields });
    };
  const logger: Logger = {
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
  const { db, close } = openDatabase(':memory:');
  const app = createApp({
    repos: sqliteRepositories(db),
    env: testEnv(),
    logger,
    passwords: testPasswords,
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const port = (server.address() as { port: number }).port;
  onTestFinished(async () => {
    await new Promise((resolve) => server.close(resolve));
    close();
  });
  return { port, lines };
}

/** Sends raw bytes and returns what came back until the server closes or 2 s pass. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.write(request);
    setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, 2000);
  });
}

describe('a malformed chunked body (adversarial test, hole 9)', () => {
  it.each([
    ['POST', '/api/auth/login', 'application/json'],
    ['POST', '/api/sync/push', 'application/json'],
    ['PUT', `/api/blobs/${'a'.repeat(64)}?teamId=t`, 'image/png'],
  ])(
    '%s %s: 400 for the client, no error line or stack trace in the log',
    async (method, path, type) => {
      const { port, lines } = await realServer();
      const answer = await raw(
        port,
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${ORIGIN}\r\n` +
          `Content-Type: ${type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
          `5\r\n{"a":\r\nZZ\r\nnot a chunk\r\n0\r\n\r\n`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 4\d\d/);
      await new Promise((r) => setTimeout(r, 100)); // the handler may finish after the socket
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      expect(JSON.stringify(lines)).not.toMatch(/\n\s+at /);
      expect(lines.filter((l) => l.msg === 'request' && Number(l.fields?.status) >= 500)).toEqual(
        [],
      );
    },
  );
});
