import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTestApp, TestClient, withAdmin } from '../test-utils';

function setup(options?: Parameters<typeof makeTestApp>[0]) {
  const t = makeTestApp(options);
  onTestFinished(t.close);
  return t;
}

const statuses = async (responses: Promise<Response>[]) =>
  (await Promise.all(responses)).map((r) => r.status);
const countOf = (list: number[], status: number) => list.filter((s) => s === status).length;

describe('login rate limit under concurrency (adversarial test, hole 2)', () => {
  it('40 wrong passwords at once for one account: the attempts are counted before the hash', async () => {
    const { app } = setup({ env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const all = await statuses(
      Array.from({ length: 40 }, (_, i) =>
        new TestClient(app, { 'x-forwarded-for': '10.9.0.1' }).login(
          'admin@example.org',
          `wrong password ${i}`,
        ),
      ),
    );
    expect(countOf(all, 429)).toBeGreaterThanOrEqual(30);
    expect(countOf(all, 401) + countOf(all, 429)).toBe(40);
  });

  it('40 wrong passwords at once from one IP across accounts', async () => {
    const { app } = setup({ env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const attacker = { 'x-forwarded-for': '203.0.113.50' };
    const all = await statuses(
      Array.from({ length: 40 }, (_, i) =>
        new TestClient(app, attacker).login(`user${i}@example.org`, 'wrong password'),
      ),
    );
    expect(countOf(all, 429)).toBeGreaterThanOrEqual(20);
  });
});
