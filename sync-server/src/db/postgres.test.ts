import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedCatalog, readCatalog } from '../../test/pg-catalog';
import { findPostgresBinDir, startPostgres, type TestPostgres } from '../../test/postgres';
import { databaseConfigFrom, openPostgres, redactDatabaseUrl } from './postgres';
import * as pgSchema from './schema.pg';

describe('DATABASE_URL', () => {
  it('is SQLite when unset or empty, PostgreSQL for postgres:// and postgresql://', () => {
    expect(databaseConfigFrom({})).toEqual({ dialect: 'sqlite' });
    expect(databaseConfigFrom({ DATABASE_URL: ' ' })).toEqual({ dialect: 'sqlite' });
    for (const url of [
      'postgres://u:p@db:5432/fielddx',
      'postgresql://db/fielddx?sslmode=require',
    ]) {
      expect(databaseConfigFrom({ DATABASE_URL: url })).toEqual({ dialect: 'postgres', url });
    }
  });

  it('refuses anything else with a message that says what to set', () => {
    expect(() => databaseConfigFrom({ DATABASE_URL: 'fielddx.sqlite' })).toThrow(/not a URL/);
    expect(() => databaseConfigFrom({ DATABASE_URL: 'mysql://db/fielddx' })).toThrow(
      /must start with postgres:\/\/ or postgresql:\/\//,
    );
    expect(() => databaseConfigFrom({ DATABASE_URL: 'postgres://db' })).toThrow(/no database/);
  });

  it('is shown without its password', () => {
    expect(redactDatabaseUrl('postgres://fielddx:s3cret@db:5432/fielddx')).toBe(
      'postgres://fielddx:***@db:5432/fielddx',
    );
    expect(redactDatabaseUrl('postgres://db/fielddx')).toBe('postgres://db/fielddx');
  });
});

// Starting a cluster takes 3–5 s on a loaded 2-core machine: generous limits, not flaky ones.
const SERVER_TIMEOUT = 60_000;

describe.concurrent('the test PostgreSQL harness', { timeout: SERVER_TIMEOUT }, () => {
  it('fails, naming the Debian package, when the server binaries are missing', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'fielddx-no-pg-'));
    try {
      expect(() => findPostgresBinDir({ POSTGRES_BIN_DIR: empty })).toThrow(
        /apt-get install -y postgresql/,
      );
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  const refused = (host: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });

  it('stops the server and deletes its folder', async () => {
    const server = await startPostgres();
    expect(existsSync(server.dir)).toBe(true);
    expect(await refused(server.host, server.port)).toBe(false);
    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
    expect(await refused(server.host, server.port)).toBe(true);
  });

  it('deletes its folder and says why when the server does not start', async () => {
    // Fake server binaries whose initdb fails, printing its arguments (the data folder among them).
    const bin = mkdtempSync(path.join(tmpdir(), 'fielddx-fake-pg-'));
    chmodSync(bin, 0o755); // runnable by the postgres user when the tests run as root
    for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
      writeFileSync(path.join(bin, tool), '#!/bin/sh\necho "refusing: $*" >&2\nexit 1\n');
      chmodSync(path.join(bin, tool), 0o755);
    }
    try {
      const error = await startPostgres({ binDir: bin }).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/Could not start a test PostgreSQL[\s\S]*refusing: -D /);
      const dataDir = /-D (\S+)/.exec(error!.message)![1]!;
      expect(existsSync(path.dirname(dataDir))).toBe(false);
    } finally {
      rmSync(bin, { recursive: true });
    }
  });

  it('stops and deletes them too when the test process dies without stop()', async () => {
    const script = fileURLToPath(new URL('../../test/postgres-orphan.ts', import.meta.url));
    const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', script], {
          cwd: path.dirname(path.dirname(script)), // sync-server/, where tsx is installed
        });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.once('error', reject);
        p.once('close', (status) => resolve({ status, stdout, stderr }));
      },
    );
    expect(child.stderr).toContain('dying without stop()');
    expect(child.status).not.toBe(0);
    const server = JSON.parse(child.stdout.trim().split('\n')[0]!) as {
      dir: string;
      host: string;
      port: number;
    };
    expect(existsSync(server.dir)).toBe(false);
    expect(await refused(server.host, server.port)).toBe(true);
  });

  // No exit hook runs on a signal: the reaper the harness starts with each server must stop it.
  it.for(['SIGKILL', 'SIGTERM'] as const)(
    'stops and deletes them within seconds when the process that started them is killed (%s)',
    async (signal) => {
      const script = fileURLToPath(new URL('../../test/postgres-orphan.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, 'wait'], {
        cwd: path.dirname(path.dirname(script)),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let stdout = '';
          child.stdout.on('data', (d: Buffer) => {
            stdout += d.toString();
            if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
          });
          child.once('error', reject);
          child.once('exit', (code) => reject(new Error(`the child exited early (${code})`)));
        });
        const server = JSON.parse(line) as { dir: string; host: string; port: number };
        const postmaster = Number(
          readFileSync(path.join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
        );
        expect(processExists(postmaster)).toBe(true);
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill(signal);
        await exited;
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && (processExists(postmaster) || existsSync(server.dir))) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(processExists(postmaster)).toBe(false);
        expect(existsSync(server.dir)).toBe(false);
        expect(await refused(server.host, server.port)).toBe(true);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );
});

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('on a real PostgreSQL', { timeout: SERVER_TIMEOUT }, () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  }, SERVER_TIMEOUT);
  afterAll(async () => {
    await server?.stop();
  }, SERVER_TIMEOUT);

  it('the migrations build exactly the tables schema.pg.ts describes', async () => {
    const { pool, close } = await openPostgres(server.url);
    try {
      const actual = await readCatalog(pool);
      const expected = expectedCatalog(pgSchema);
      expect(expected.size).toBeGreaterThan(20);
      // One comparison of everything, so that a failure lists every difference at once.
      expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
    } finally {
      await close();
    }
  });

  it('several instances starting together migrate once, without failing', async () => {
    const url = await server.createDatabase('fielddx_concurrent');
    const opened = await Promise.all([openPostgres(url), openPostgres(url), openPostgres(url)]);
    try {
      const applied = await opened[0]!.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations',
      );
      // Each migration once: as many rows as the journal has entries.
      const journal = JSON.parse(
        readFileSync(
          fileURLToPath(new URL('../../drizzle-pg/meta/_journal.json', import.meta.url)),
          'utf8',
        ),
      ) as { entries: unknown[] };
      expect(applied.rows[0]!.n).toBe(journal.entries.length);
    } finally {
      await Promise.all(opened.map((o) => o.close()));
    }
  });

  it('the audit log takes new rows and refuses UPDATE, DELETE and TRUNCATE', async () => {
    const url = await server.createDatabase('fielddx_audit');
    const { db, pool, close } = await openPostgres(url);
    try {
      const [row] = await db
        .insert(pgSchema.auditLog)
        .values({
          at: new Date(1_795_000_000_123),
          action: 'login',
          ip: '127.0.0.1',
          detail: { ok: true },
        })
        .returning();
      expect(row).toMatchObject({ id: 1, action: 'login', detail: { ok: true } });
      expect(row!.at.getTime()).toBe(1_795_000_000_123);
      for (const statement of [
        "UPDATE audit_log SET action = 'changed'",
        'DELETE FROM audit_log',
        'TRUNCATE audit_log',
      ]) {
        await expect(pool.query(statement), statement).rejects.toThrow('audit_log is append-only');
      }
      const left = await pool.query<{ action: string }>('SELECT action FROM audit_log');
      expect(left.rows).toEqual([{ action: 'login' }]);
    } finally {
      await close();
    }
  });

  it('bigint columns come back as numbers and millisecond times as Dates', async () => {
    const url = await server.createDatabase('fielddx_types');
    const { db, pool, close } = await openPostgres(url);
    try {
      const at = new Date(Date.UTC(2026, 10, 26, 12, 0, 0, 987));
      await db.insert(pgSchema.blobs).values({
        sha256: 'a'.repeat(64),
        bytes: 5_000_000_000,
        mime: 'image/jpeg',
        teamId: 't1',
        createdBy: 'u1',
        createdAt: at,
      });
      const [blob] = await db.select().from(pgSchema.blobs);
      expect(blob).toMatchObject({ bytes: 5_000_000_000, createdAt: at });
      const raw = await pool.query<{ bytes: unknown; created_at: unknown }>(
        'SELECT bytes, created_at FROM blobs',
      );
      expect(raw.rows[0]).toEqual({ bytes: 5_000_000_000, created_at: at.getTime() });
    } finally {
      await close();
    }
  });
});
