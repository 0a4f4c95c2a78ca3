/**
 * Several instances behind one address: three real server processes on one database (the SQLite
 * file of one data folder; with TEST_DB=postgres, one PostgreSQL database) behind a
 * round-robin loopback proxy (test/proxy.ts), simulated tablets syncing through it, and one
 * instance SIGKILLed while it applies a large push. The device retries the push with the same
 * mutation ids through the proxy (another instance answers); afterwards every acknowledged edit
 * is stored exactly once, the change sequence has no duplicate, and every device holds exactly
 * the server's records.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type ServerInstance } from '../test/cluster';
import { Fleet } from '../test/fleet';
import { startProxy, type LoopbackProxy } from '../test/proxy';
import { newPostgresDatabase, TEST_DB, tempDir } from './test-utils';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let instances: ServerInstance[] = [];
let proxy: LoopbackProxy | null = null;
const data = tempDir('fdx-proxy-');
afterAll(async () => {
  await Promise.all(instances.map((s) => s.stop('SIGKILL')));
  await proxy?.close();
  data.remove();
});

describe(`three instances behind one proxy (${TEST_DB})`, () => {
  it('lose and duplicate nothing when one is killed in the middle of a push', async () => {
    const databaseUrl = TEST_DB === 'postgres' ? await newPostgresDatabase() : undefined;
    const upstreams: string[] = [];
    proxy = await startProxy(upstreams);
    instances = await startCluster(3, {
      dataDir: data.dir,
      publicOrigin: proxy.origin,
      env: { TRUST_PROXY: 'true', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    });
    upstreams.push(...instances.map((s) => s.origin));

    const fleet = await Fleet.create({
      origin: proxy.origin,
      users: 3,
      tabletsPerUser: 2,
      seed: 20261126,
    });
    const [big, ...others] = fleet.devices;
    const until = Date.now() + 6_000;
    const background = Promise.all(others.map((d) => fleet.runDevice(d, until, 100)));

    // A push large enough to take a while to apply; its instance is killed 25 ms after the proxy
    // hands it over, while it is inside its transaction.
    for (let i = 0; i < 1000; i++) fleet.newPatient(big!);
    let killed: ServerInstance | null = null;
    let killing: Promise<void> = Promise.resolve();
    proxy.onForward = (event) => {
      if (killed || event.url !== '/api/sync/push' || event.bytes < 100_000) return;
      killed = instances[event.upstream]!;
      const target = killed;
      killing = sleep(25).then(() => target.stop('SIGKILL'));
    };
    await sleep(1_000);
    expect(await fleet.push(big!)).toBe(false);
    await killing;
    proxy.onForward = null;
    expect(killed).not.toBeNull();
    expect(killed!.running).toBe(false);
    // The retry, with the same mutation ids, is answered by one of the other two.
    expect(await fleet.push(big!)).toBe(true);
    expect(big!.outbox.size).toBe(0);

    await killed!.restart();
    await background;
    await fleet.drain();
    for (const s of instances) await s.stop('SIGTERM');

    const { problems, records } = databaseUrl
      ? await fleet.verifyAgainstPostgres(databaseUrl)
      : await fleet.verifyAgainst(data.dir);
    expect(problems).toEqual([]);
    expect(records).toBeGreaterThanOrEqual(1000);
    // The proxy really spread the work: every instance answered.
    expect(proxy.served.filter((n) => n > 0)).toHaveLength(3);
    expect(fleet.unanswered).toBeGreaterThan(0);
  }, 180_000);
});
