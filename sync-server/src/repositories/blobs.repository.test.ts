import { createHash } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { filesystemBlobStore } from '../blob-store/filesystem';
import { getBlob, putBlob } from '../services/blobs';
import type { Scope } from '../services/scope';
import { TEST_DB, tempDir, testDatabase, type TestDatabase } from '../test-utils';

/*
 * The contract of BlobsRepository (repositories/blobs.repository.ts), on SQLite and, with
 * TEST_DB=postgres, on PostgreSQL: the first upload's row stays, a blob is given to each team
 * once, concurrent uploads of one hash all succeed, and a blob is readable only within the
 * readers' teams.
 */

const dialects = ['sqlite', ...(TEST_DB === 'postgres' ? ['postgres' as const] : [])] as const;

const T0 = new Date('2026-01-15T10:00:00.000Z');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const A = sha('a');
const B = sha('b');
const none = { clinicianTeams: [], supervisedTeams: [] };

async function open(dialect: 'sqlite' | 'postgres') {
  const t = await testDatabase({ dialect });
  onTestFinished(t.close);
  return t;
}

const blob = (sha256: string, teamId: string, mime = 'image/png', bytes = 3_000_000_000) => ({
  sha256,
  bytes, // above 2^31: a bigint column on PostgreSQL, still a number here
  mime,
  teamId,
  createdBy: `user-${teamId}`,
  createdAt: T0,
});

/** A diagnosis of a shared report of `teamId` whose image is `image` (review-index's row). */
async function diagnosis(t: TestDatabase, id: string, teamId: string, image: string) {
  const row = [`r-${id}`, id, teamId, 'm', '1.0.0', 'M', 1, null, image, 0];
  const insert = `INSERT INTO review_diagnoses (report_id, diagnosis_id, team_id, model_id,
    model_version, model_name, positive, assessment, image_sha256, ran_at)`;
  if (t.pool) {
    await t.pool.query(`${insert} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, row);
  } else {
    t.sqlite.prepare(`${insert} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...row);
  }
}

const scope = (userId: string, clinician: string[], supervisor: string[] = []): Scope => ({
  userId,
  isAdmin: false,
  clinicianTeams: new Set(clinician),
  supervisorTeams: new Set(supervisor),
  readTeams: [...new Set([...clinician, ...supervisor])].sort(),
  fingerprint: [],
});

const body = (s: string) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(s));
      c.close();
    },
  });

describe.each(dialects)('BlobsRepository (%s)', (dialect) => {
  it('keeps the first upload of a hash, and gives it to each team once', async () => {
    const { repos } = await open(dialect);
    expect(await repos.blobs.find(A)).toBeUndefined();
    await repos.transaction((tx) => tx.blobs.record(blob(A, 'team-a')));
    expect(await repos.blobs.find(A)).toEqual({ bytes: 3_000_000_000, mime: 'image/png' });
    expect(await repos.blobs.hasTeam(A, 'team-a')).toBe(true);
    expect(await repos.blobs.hasTeam(A, 'team-b')).toBe(false);
    expect(await repos.blobs.hasTeam(B, 'team-a')).toBe(false);

    // Again, for the same team and for another, with another type: the first row stays.
    await repos.transaction((tx) => tx.blobs.record(blob(A, 'team-a', 'text/html', 1)));
    await repos.transaction((tx) => tx.blobs.record(blob(A, 'team-b', 'text/html', 1)));
    expect(await repos.blobs.find(A)).toEqual({ bytes: 3_000_000_000, mime: 'image/png' });
    expect(await repos.blobs.hasTeam(A, 'team-b')).toBe(true);
    // The team id compares exactly.
    expect(await repos.blobs.hasTeam(A, 'TEAM-A')).toBe(false);
  });

  it('records concurrent uploads of one hash without failing', async () => {
    const { repos } = await open(dialect);
    const teams = ['team-a', 'team-a', 'team-b', 'team-c', 'team-b'];
    await Promise.all(
      teams.map((team) => repos.transaction((tx) => tx.blobs.record(blob(A, team)))),
    );
    for (const team of ['team-a', 'team-b', 'team-c']) {
      expect(await repos.blobs.hasTeam(A, team)).toBe(true);
    }
  });

  it("finds a blob only for its teams' clinicians and the supervisors of its reports", async () => {
    const t = await open(dialect);
    const { repos } = t;
    await repos.transaction((tx) => tx.blobs.record(blob(A, 'team-a')));
    await repos.transaction((tx) => tx.blobs.record(blob(B, 'team-b')));
    await diagnosis(t, 'd1', 'team-a', A);

    const found = { bytes: 3_000_000_000, mime: 'image/png' };
    expect(await repos.blobs.findReadable(A, none)).toBeUndefined();
    expect(await repos.blobs.findReadable(A, { ...none, clinicianTeams: ['team-a'] })).toEqual(
      found,
    );
    expect(
      await repos.blobs.findReadable(A, { ...none, clinicianTeams: ['team-b', 'team-c'] }),
    ).toBeUndefined();
    expect(await repos.blobs.findReadable(A, { ...none, supervisedTeams: ['team-a'] })).toEqual(
      found,
    );
    expect(
      await repos.blobs.findReadable(A, { ...none, supervisedTeams: ['team-b'] }),
    ).toBeUndefined();
    expect(await repos.blobs.findReadable(A, { ...none, supervisedTeams: 'all' })).toEqual(found);
    // B is in no report: an administrator reads it only as a clinician of its team.
    expect(await repos.blobs.findReadable(B, { ...none, supervisedTeams: 'all' })).toBeUndefined();
    expect(
      await repos.blobs.findReadable(B, { clinicianTeams: ['team-a'], supervisedTeams: 'all' }),
    ).toBeUndefined();
    expect(
      await repos.blobs.findReadable(B, { clinicianTeams: ['team-b'], supervisedTeams: [] }),
    ).toEqual(found);
    expect(
      await repos.blobs.findReadable(sha('c'), { ...none, supervisedTeams: 'all' }),
    ).toBeUndefined();
  });
});

describe.each(dialects)('blob uploads on %s (services/blobs.ts)', (dialect) => {
  async function world() {
    const t = await open(dialect);
    const data = tempDir('fdx-blob-meta-');
    onTestFinished(data.remove);
    const deps = { repos: t.repos, store: filesystemBlobStore(data.dir), now: () => T0 };
    return { ...t, deps };
  }
  const put = (
    deps: Awaited<ReturnType<typeof world>>['deps'],
    who: Scope,
    team: string,
    s: string,
  ) =>
    putBlob(deps, who, {
      sha256: sha(s),
      teamId: team,
      contentType: 'image/png',
      contentLength: undefined,
      body: body(s),
    });

  it('answers concurrent uploads of the same bytes by two teams, each team granted', async () => {
    const { deps, repos } = await world();
    const alice = scope('alice', ['team-a']);
    const bob = scope('bob', ['team-b']);
    const answers = await Promise.all([
      put(deps, alice, 'team-a', 'x-ray'),
      put(deps, bob, 'team-b', 'x-ray'),
      put(deps, alice, 'team-a', 'x-ray'),
    ]);
    for (const a of answers) expect(a.body).toMatchObject({ sha256: sha('x-ray'), bytes: 5 });
    expect(await repos.blobs.hasTeam(sha('x-ray'), 'team-a')).toBe(true);
    expect(await repos.blobs.hasTeam(sha('x-ray'), 'team-b')).toBe(true);
    // Then each reads it, and a third team does not.
    await getBlob(deps, alice, sha('x-ray'));
    await getBlob(deps, bob, sha('x-ray'));
    await expect(getBlob(deps, scope('carol', ['team-c']), sha('x-ray'))).rejects.toMatchObject({
      status: 404,
    });
    // Once recorded, the same upload is answered without writing.
    expect((await put(deps, bob, 'team-b', 'x-ray')).status).toBe(200);
  });

  it('writes no row for bytes that do not hash to their name', async () => {
    const { deps, repos } = await world();
    await expect(
      putBlob(deps, scope('alice', ['team-a']), {
        sha256: sha('expected'),
        teamId: 'team-a',
        contentType: 'image/png',
        contentLength: undefined,
        body: body('something else'),
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(await repos.blobs.find(sha('expected'))).toBeUndefined();
  });
});
