/**
 * Several processes on one database reserve attempts for the same key at the same moment, as
 * several server instances would. Each check-and-reserve must be atomic across connections: the
 * total reserved is exactly the free count, never more.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/connection';
import { SIGNUP_MAX_FAILURES } from '../services/auth';
import { tempDir } from '../test-utils';
import { LOGIN_FREE_FAILURES } from './rate-limit';

const run = promisify(execFile);
const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CONTENDERS = 4;

let folder: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  folder = tempDir('fdx-race-');
  file = path.join(folder.dir, 'race.sqlite');
  openDatabase(file).close(); // migrated once, before the contenders open it
});
afterEach(() => folder.remove());

const ROUNDS = 16;

/** The attempts reserved in each round, all contenders together. */
async function race(kind: 'login' | 'signup'): Promise<number[]> {
  // Far enough ahead for every contender to have loaded (tsx, drizzle) on a loaded machine.
  const startAt = Date.now() + 8_000;
  const outputs = await Promise.all(
    Array.from({ length: CONTENDERS }, () =>
      run(
        process.execPath,
        [
          '--import',
          'tsx',
          'test/limiter-race-worker.ts',
          file,
          kind,
          String(startAt),
          String(ROUNDS),
          '40',
        ],
        { cwd: SERVER_DIR },
      ),
    ),
  );
  const perContender = outputs.map(
    (o) => (JSON.parse(o.stdout.trim()) as { reserved: number[] }).reserved,
  );
  return Array.from({ length: ROUNDS }, (_, r) =>
    perContender.reduce((sum, rounds) => sum + rounds[r]!, 0),
  );
}

describe('attempts reserved from several processes at once', () => {
  it('sign-in: exactly the free failures of the pair bucket', async () => {
    expect(await race('login')).toEqual(Array(ROUNDS).fill(LOGIN_FREE_FAILURES.pair));
  }, 60_000);

  it('sign-up: exactly the limit per IP', async () => {
    expect(await race('signup')).toEqual(Array(ROUNDS).fill(SIGNUP_MAX_FAILURES));
  }, 60_000);
});
