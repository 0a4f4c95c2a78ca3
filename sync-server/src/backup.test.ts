import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { backup, restore } from './backup';
import { filesystemBlobStore } from './blob-store/filesystem';
import { DB_FILE_NAME } from './db/connection';
import { blobPath } from './services/blobs';
import { importBundledModels, legacyModelFilePath } from './services/models';
import { blobRequest, mutation, patient, SyncClient, syncWorld } from './sync-test-utils';
import { makeTestApp, tempDir, TestClient } from './test-utils';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function world() {
  const w = await syncWorld({ dbInDataDir: true });
  onTestFinished(w.cleanup);
  return w;
}

function folder(prefix: string) {
  const t = tempDir(prefix);
  onTestFinished(t.remove);
  return t.dir;
}

describe('backup and restore', () => {
  it('backs up while pushes go on, and a restored server serves every record and image', async () => {
    const w = await world();
    const image = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
    const sha = sha256(image);
    const put = await blobRequest(
      w.app,
      w.alice.client,
      'PUT',
      `/api/blobs/${sha}?teamId=${w.teamA}`,
      image,
      {
        'content-type': 'image/png',
      },
    );
    expect(put.status).toBe(201);
    const before = Array.from({ length: 40 }, () => patient(w.teamA));
    await w.alice.push(before.map((p) => mutation('patients', p)));
    await w.alice.push([mutation('patients', { ...before[0]!, village: 'Edited' }, 1)]);

    // Pushes of 10 records each, running while the backup is taken.
    const batches: string[][] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const batch = Array.from({ length: 10 }, () => patient(w.teamA));
        batches.push(batch.map((p) => p.id));
        await w.bob.push(batch.map((p) => mutation('patients', p)));
        await new Promise((r) => setImmediate(r));
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    const dest = path.join(folder('fdx-backup-'), 'backup');
    const summary = await backup(w.dataDir, dest);
    writing = false;
    await writer;
    expect(summary).toMatchObject({ blobs: 1, blobBytes: 4096 });

    const restoredDir = path.join(folder('fdx-restored-'), 'data');
    await restore(dest, restoredDir);
    const restored = await makeTestApp({
      file: path.join(restoredDir, DB_FILE_NAME),
      env: { DATA_DIR: restoredDir },
    });
    onTestFinished(restored.close);
    expect(restored.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');

    // Bob signs in on a new tablet against the restored server (accounts are in the backup).
    const bob = new SyncClient(new TestClient(restored.app), w.bob.userId);
    expect((await bob.client.login('bob@example.org')).status).toBe(200);
    const changes = await bob.pullAll();
    const byId = new Map(changes.map((c) => [c.id, c]));
    for (const p of before) expect(byId.has(p.id), p.id).toBe(true);
    expect(byId.get(before[0]!.id)).toMatchObject({ version: 2, record: { village: 'Edited' } });
    // Every push running during the backup is in it whole or not at all.
    for (const ids of batches) {
      const present = ids.filter((id) => byId.has(id)).length;
      expect([0, ids.length]).toContain(present);
    }
    // The same records, versions and data as the original server had for them.
    const original = new Map((await w.alice.pullAll()).map((c) => [c.id, c]));
    for (const c of changes) expect(c).toEqual(original.get(c.id));
    const got = await blobRequest(restored.app, bob.client, 'GET', `/api/blobs/${sha}`);
    expect(got.status).toBe(200);
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha);

    // Bob's device keeps syncing against it: a new edit is applied on the restored version.
    const r = await bob.pushOne(mutation('patients', { ...before[1]!, phone: '+254 700' }, 1));
    expect(r).toMatchObject({ status: 'applied', version: 2 });
    // The audit log came along.
    const audit = new Database(path.join(restoredDir, DB_FILE_NAME), { readonly: true });
    onTestFinished(() => {
      audit.close();
    });
    expect(
      audit.prepare("SELECT count(*) FROM audit_log WHERE action = 'auth.signup'").pluck().get(),
    ).toBeGreaterThanOrEqual(5);
    // ... and is still append-only there: the triggers travel with the database.
    const writable = new Database(path.join(restoredDir, DB_FILE_NAME));
    onTestFinished(() => {
      writable.close();
    });
    expect(() => writable.prepare('UPDATE audit_log SET ip = ?').run('x')).toThrow(/append-only/);
    expect(() => writable.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
  });

  it('carries the model files the catalogue lists, from either layout, and the restored server serves them', async () => {
    const w = await world();
    const deps = {
      repos: w.repos,
      blobStore: filesystemBlobStore(w.dataDir),
      dataDir: w.dataDir,
      now: () => new Date(),
    };
    const silent = { info: () => {}, warn: () => {} };
    const bundled = fileURLToPath(new URL('../../models', import.meta.url));
    expect(await importBundledModels(deps, bundled, silent)).toBe(2);
    const catalogue = (await w.repos.models.listVersions()).map((v) => v.files);
    // The diabetes graph, the pneumonia graph and its input check.
    const hashes = [...new Set(catalogue.flatMap((f) => Object.values(f)))].sort();
    expect(hashes).toHaveLength(3);
    // One of them as a data folder of an earlier version keeps it: under models/ only.
    mkdirSync(path.join(w.dataDir, 'models'));
    renameSync(blobPath(w.dataDir, hashes[0]!), legacyModelFilePath(w.dataDir, hashes[0]!));
    const sizes = hashes.map(
      (h) =>
        readFileSync(
          existsSync(blobPath(w.dataDir, h))
            ? blobPath(w.dataDir, h)
            : legacyModelFilePath(w.dataDir, h),
        ).length,
    );

    const dest = path.join(folder('fdx-backup-'), 'backup');
    const summary = await backup(w.dataDir, dest);
    expect(summary).toMatchObject({
      blobs: 0,
      modelFiles: 3,
      modelFileBytes: sizes.reduce((a, b) => a + b, 0),
      modelFilesMissing: 0,
    });
    for (const h of hashes) expect(sha256(readFileSync(blobPath(dest, h)))).toBe(h);

    const restoredDir = path.join(folder('fdx-restored-'), 'data');
    expect(await restore(dest, restoredDir)).toMatchObject({ modelFiles: 3, modelFilesMissing: 0 });
    const restored = await makeTestApp({
      file: path.join(restoredDir, DB_FILE_NAME),
      env: { DATA_DIR: restoredDir },
    });
    onTestFinished(restored.close);
    const clinician = new SyncClient(new TestClient(restored.app), w.alice.userId);
    expect((await clinician.client.login('alice@example.org')).status).toBe(200);
    for (const version of await restored.repos.models.listVersions()) {
      for (const [name, hash] of Object.entries(version.files)) {
        const res = await clinician.client.get(
          `/api/models/${version.id}/${version.version}/${name}`,
        );
        expect(res.status, name).toBe(200);
        expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(hash);
      }
    }

    // A model file the source lost: the backup still runs, and says so.
    rmSync(legacyModelFilePath(w.dataDir, hashes[0]!));
    const partial = await backup(w.dataDir, path.join(folder('fdx-backup-'), 'backup'));
    expect(partial).toMatchObject({ modelFiles: 2, modelFilesMissing: 1 });
  });

  it('refuses a non-empty destination, and a damaged backup', async () => {
    const w = await world();
    const full = folder('fdx-full-');
    writeFileSync(path.join(full, 'x'), 'x');
    await expect(backup(w.dataDir, full)).rejects.toThrow(/not empty/);
    await expect(restore(w.dataDir, full)).rejects.toThrow(/not empty/);
    const broken = folder('fdx-broken-');
    writeFileSync(path.join(broken, DB_FILE_NAME), 'not a database');
    await expect(restore(broken, path.join(folder('fdx-to-'), 'data'))).rejects.toThrow();
  });

  it('runs as `pnpm backup <folder>` and `pnpm restore <folder>`', async () => {
    const w = await world();
    await w.alice.push([mutation('patients', patient(w.teamA))]);
    const root = folder('fdx-cli-');
    const cli = fileURLToPath(new URL('./backup-cli.ts', import.meta.url));
    const run = (args: string[], dataDir: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, DATA_DIR: dataDir, INIT_CWD: root },
        encoding: 'utf8',
      });
    const made = run(['backup', 'b1'], w.dataDir);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(
      /^backup: .* database \d+ bytes, 0 blobs \(0 bytes\), 0 model files \(0 bytes\)/,
    );
    const target = path.join(root, 'restored');
    mkdirSync(target);
    const back = run(['restore', 'b1'], target);
    expect(back.status, back.stderr).toBe(0);
    expect(existsSync(path.join(target, DB_FILE_NAME))).toBe(true);
    const again = run(['restore', 'b1'], target);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
  }, 60_000);
});
