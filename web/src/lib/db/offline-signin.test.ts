import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkOffline,
  forgetOffline,
  PBKDF2_ITERATIONS,
  rememberForOffline,
} from './offline-signin';
import { freshDatabase } from './test-db';

const db = freshDatabase();
afterEach(async () => {
  await forgetOffline(db);
});

describe('offline sign-in of the last user', () => {
  it('uses at least 600,000 PBKDF2 iterations by default', () => {
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(600_000);
  });

  it('lets the same email and password in, and nothing else', async () => {
    await rememberForOffline(db, ' Ada@Example.org ', 'a long field password', { id: 'u1' }, 1000);
    expect(await checkOffline(db, 'ada@example.org', 'a long field password')).toEqual({
      id: 'u1',
    });
    expect(await checkOffline(db, 'ada@example.org', 'a long field passwore')).toBeNull();
    expect(await checkOffline(db, 'bob@example.org', 'a long field password')).toBeNull();
  });

  it('never stores the password', async () => {
    await rememberForOffline(db, 'ada@example.org', 'a long field password', {}, 1000);
    const stored = JSON.stringify(await db.settings.toArray());
    expect(stored).not.toContain('a long field password');
    expect(stored).toMatch(/"verifier":"[0-9a-f]{64}"/);
  });

  it('knows no one after forgetting', async () => {
    await rememberForOffline(db, 'ada@example.org', 'pw-pw-pw-pw', {}, 1000);
    await forgetOffline(db);
    expect(await checkOffline(db, 'ada@example.org', 'pw-pw-pw-pw')).toBeNull();
  });
});
