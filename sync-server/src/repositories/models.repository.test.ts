import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { filesystemBlobStore } from '../blob-store/filesystem';
import type { ModelVersionRow } from '../db/schema';
import type { ModelStatus } from '../protocol';
import type { Actor } from '../services/audit';
import { activateVersion, importBundledModels, retireVersion } from '../services/models';
import { TEST_DB, tempDir, testDatabase } from '../test-utils';

/*
 * The contract of ModelsRepository (repositories/models.repository.ts) and of the services that
 * hold the model's lock, on SQLite and, with TEST_DB=postgres, on PostgreSQL: the same order of
 * versions whatever the database's collation, one active version per model even when two
 * administrators activate at once (on PostgreSQL, two connections run the two transactions
 * concurrently, as two instances would), and a bundled model imported once by instances starting
 * together.
 */

const dialects = ['sqlite', ...(TEST_DB === 'postgres' ? ['postgres' as const] : [])] as const;
const bundled = fileURLToPath(new URL('../../../models', import.meta.url));
const silent = { info: () => {}, warn: () => {} };

const T0 = new Date('2026-01-15T10:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const actor = (minutes = 0): Actor => ({ userId: 'admin', ip: '127.0.0.1', at: at(minutes) });

function version(
  id: string,
  v: string,
  status: ModelStatus = 'staged',
  createdAt = T0,
): ModelVersionRow {
  return {
    id,
    version: v,
    name: `Model ${id}`,
    modality: 'tabular',
    task: 'binary',
    bytes: 3_000_000_000, // above 2^31: a bigint column on PostgreSQL, still a number here
    sha256: 'a'.repeat(64),
    status,
    releaseNotes: '',
    manifest: { id, version: v, nested: { units: ['ans', 'mmol/L'] } },
    files: { 'model.onnx': 'b'.repeat(64) },
    source: 'uploaded',
    createdBy: 'admin',
    createdAt,
    activatedAt: status === 'active' ? createdAt : null,
  };
}

async function open(dialect: 'sqlite' | 'postgres') {
  const t = await testDatabase({ dialect });
  onTestFinished(t.close);
  return t;
}

describe.each(dialects)('ModelsRepository (%s)', (dialect) => {
  it('lists versions by id byte by byte, then creation time, then version', async () => {
    const { repos, pool } = await open(dialect);
    if (pool) {
      // The test server's databases use the C locale; a production database is often en_US: its
      // columns compare under a linguistic collation (ICU's root one here) to show the order holds.
      await pool.query(`ALTER TABLE model_versions
        ALTER COLUMN id TYPE text COLLATE "und-x-icu",
        ALTER COLUMN version TYPE text COLLATE "und-x-icu"`);
    }
    // Under a linguistic collation (en_US), '-' and '_' are ignored and case folds: 'diabetes_risk'
    // would sort before 'diabetes-risk2' and 'Zeta' after 'alpha'.
    for (const row of [
      version('diabetes-risk2', '1.0.0'),
      version('diabetes_risk', '1.0.0'),
      version('alpha', '2.0.0', 'retired', at(1)),
      version('alpha', '1.10.0', 'active', at(2)),
      version('alpha', '1.9.0', 'staged', at(2)),
      version('Zeta', '1.0.0'),
      version('diabetes-risk', '1.0.0', 'retired'),
    ]) {
      expect(await repos.models.insertVersion(row)).toBe(true);
    }
    const all = await repos.models.listVersions();
    expect(all.map((r) => `${r.id}@${r.version}`)).toEqual([
      'Zeta@1.0.0',
      'alpha@2.0.0',
      'alpha@1.10.0', // same creation time as 1.9.0: by version, as text
      'alpha@1.9.0',
      'diabetes-risk@1.0.0',
      'diabetes-risk2@1.0.0',
      'diabetes_risk@1.0.0',
    ]);
    const published = await repos.models.listVersions({ statuses: ['active', 'retired'] });
    expect(published.map((r) => `${r.id}@${r.version}`)).toEqual([
      'alpha@2.0.0',
      'alpha@1.10.0',
      'diabetes-risk@1.0.0',
    ]);
    const alpha = await repos.models.listVersions({ id: 'alpha' });
    expect(alpha.map((r) => r.version)).toEqual(['2.0.0', '1.10.0', '1.9.0']);
    expect(await repos.models.listVersions({ id: 'ALPHA' })).toEqual([]);
  });

  it('gives a version back as it was written: dates, JSON and numbers', async () => {
    const { repos } = await open(dialect);
    const row = version('alpha', '1.0.0', 'active', at(5));
    await repos.models.insertVersion(row);
    expect(await repos.models.getVersion('alpha', '1.0.0')).toEqual(row);
    expect(await repos.models.getVersion('alpha', '1.0.1')).toBeUndefined();
    expect(await repos.models.getVersion('Alpha', '1.0.0')).toBeUndefined();
  });

  it('inserts a version once: a second one with the same id and version writes nothing', async () => {
    const { repos } = await open(dialect);
    expect(await repos.models.insertVersion(version('alpha', '1.0.0'))).toBe(true);
    const other = { ...version('alpha', '1.0.0', 'active'), name: 'Another' };
    expect(await repos.models.insertVersion(other)).toBe(false);
    expect(await repos.models.getVersion('alpha', '1.0.0')).toMatchObject({
      name: 'Model alpha',
      status: 'staged',
    });
    // Two at once (two connections on PostgreSQL): one wins.
    const results = await Promise.all(
      [1, 2].map((n) => repos.models.insertVersion({ ...version('beta', '1.0.0'), name: `n${n}` })),
    );
    expect(results.sort()).toEqual([false, true]);
  });

  it('activates one version at a time, retiring the previous one, and retires', async () => {
    const { repos } = await open(dialect);
    await repos.models.insertVersion(version('alpha', '1.0.0', 'active'));
    await repos.models.insertVersion(version('alpha', '1.1.0'));
    await repos.models.insertVersion(version('beta', '1.0.0', 'active'));
    await repos.transaction(async (tx) => {
      await tx.models.lockModel('alpha');
      await tx.models.setActive('alpha', '1.1.0', at(10));
    });
    const status = async () =>
      (await repos.models.listVersions()).map((r) => [r.id, r.version, r.status, r.activatedAt]);
    expect(await status()).toEqual([
      ['alpha', '1.0.0', 'retired', T0],
      ['alpha', '1.1.0', 'active', at(10)],
      ['beta', '1.0.0', 'active', T0],
    ]);
    await repos.models.retire('alpha', '1.1.0');
    await repos.models.retire('alpha', '1.1.0');
    expect((await status()).map((s) => s[2])).toEqual(['retired', 'retired', 'active']);
    // Back from retired (a rollback).
    await repos.transaction((tx) => tx.models.setActive('alpha', '1.0.0', at(20)));
    expect((await status()).map((s) => s[2])).toEqual(['active', 'retired', 'active']);
  });

  it('never holds two active versions of a model: the schema refuses it', async () => {
    const { repos } = await open(dialect);
    await repos.models.insertVersion(version('alpha', '1.0.0', 'active'));
    await expect(repos.models.insertVersion(version('alpha', '1.1.0', 'active'))).rejects.toThrow();
  });

  it('runs two activations of one model at once one after the other (the model lock)', async () => {
    const { repos } = await open(dialect);
    await repos.models.insertVersion(version('alpha', '1.0.0', 'active'));
    for (const v of ['1.1.0', '1.2.0', '1.3.0', '1.4.0']) {
      await repos.models.insertVersion(version('alpha', v));
    }
    const deps = { repos };
    const targets = ['1.1.0', '1.2.0', '1.3.0', '1.4.0'];
    // Each a transaction of its own, on its own connection on PostgreSQL.
    const answers = await Promise.all(
      targets.map((v, i) => activateVersion(deps, actor(i), 'alpha', v)),
    );
    for (const answer of answers) {
      expect(answer.filter((m) => m.status === 'active')).toHaveLength(1);
    }
    const final = await repos.models.listVersions({ id: 'alpha' });
    expect(final.filter((r) => r.status === 'active')).toHaveLength(1);
    // Serialised: each activation retired the one before it, so the audit's `previous` chain
    // links them all, starting from 1.0.0, each version once.
    const log = (await repos.audit.list({ limit: 10 })).map((e) => e.entry).reverse();
    expect(log).toHaveLength(targets.length);
    const previous = log.map((e) => (e.detail as { previous: string }).previous);
    const activated = log.map((e) => e.target!.split('@')[1]);
    expect(previous).toEqual(['1.0.0', ...activated.slice(0, -1)]);
    expect([...activated].sort()).toEqual(targets);
    expect(final.find((r) => r.status === 'active')!.version).toBe(activated.at(-1));
  });

  it('serialises a retirement with an activation of the same version', async () => {
    const { repos } = await open(dialect);
    await repos.models.insertVersion(version('alpha', '1.0.0', 'active'));
    await repos.models.insertVersion(version('alpha', '1.1.0'));
    await Promise.all([
      activateVersion({ repos }, actor(1), 'alpha', '1.1.0'),
      retireVersion({ repos }, actor(2), 'alpha', '1.1.0'),
    ]);
    const log = (await repos.audit.list({ limit: 10 })).map((e) => e.entry).reverse();
    const retire = log.find((e) => e.action === 'model.retire')!;
    const final = await repos.models.getVersion('alpha', '1.1.0');
    // Whichever ran second saw the first's result.
    if (log[0]!.action === 'model.activate') {
      expect(retire.detail).toEqual({ was: 'active' });
      expect(final!.status).toBe('retired');
    } else {
      expect(retire.detail).toEqual({ was: 'staged' });
      expect(final!.status).toBe('active');
    }
  });

  it('imports each bundled model once when instances start together', async () => {
    const { repos } = await open(dialect);
    const dirs = [tempDir('fdx-models-a-'), tempDir('fdx-models-b-')];
    for (const d of dirs) onTestFinished(d.remove);
    const imported = await Promise.all(
      dirs.map((d) =>
        importBundledModels(
          { repos, blobStore: filesystemBlobStore(d.dir), dataDir: d.dir, now: () => T0 },
          bundled,
          silent,
        ),
      ),
    );
    expect(imported[0]! + imported[1]!).toBe(2);
    const rows = await repos.models.listVersions();
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      ['diabetes-risk', 'active'],
      ['pneumonia-cxr', 'active'],
    ]);
  });
});
