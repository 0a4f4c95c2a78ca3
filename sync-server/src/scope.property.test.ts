/**
 * Scope as a property (issue 13): random teams, users, memberships (clinician, supervisor or
 * none per team, changed part-way), records and images. Whatever the draw, no route returns or
 * accepts a record or blob outside the caller's scope: clinical records and images only of the
 * teams where the caller is a clinician, review-side records of the teams they supervise. fast-check prints the seed of a failure;
 * replay with `SCOPE_SEED=<seed>`; `SCOPE_RUNS` sets the number of worlds (default 12).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MutationResult, PullChange } from './protocol';
import { blobRequest, mutation, patient, report, SyncClient } from './sync-test-utils';
import { makeTestApp, tempDir, TestClient, withAdmin } from './test-utils';

const RUNS = Number(process.env.SCOPE_RUNS ?? 12);
const SEED = process.env.SCOPE_SEED ? Number(process.env.SCOPE_SEED) : undefined;

type Role = 'clinician' | 'supervisor' | null;

const world = fc.record({
  teams: fc.integer({ min: 2, max: 3 }),
  /** Per user, per team: the role there. */
  users: fc.array(
    fc.array(fc.constantFrom<Role>('clinician', 'supervisor', null), {
      minLength: 3,
      maxLength: 3,
    }),
    {
      minLength: 2,
      maxLength: 4,
    },
  ),
  /** Writes: who, into which team (maybe not theirs), a report or a patient. */
  writes: fc.array(
    fc.record({ user: fc.nat(), team: fc.nat(), report: fc.boolean(), image: fc.boolean() }),
    { minLength: 4, maxLength: 12 },
  ),
  /** A membership change part-way: the user's role in a team becomes this. */
  change: fc.record({
    user: fc.nat(),
    team: fc.nat(),
    role: fc.constantFrom<Role>('clinician', 'supervisor', null),
  }),
});

type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

async function check(draw: World) {
  const data = tempDir('fdx-scope-');
  const t = await makeTestApp({ env: { DATA_DIR: data.dir } });
  try {
    const a = await withAdmin(t.app);
    const teams: string[] = [];
    for (let i = 0; i < draw.teams; i++) teams.push(await a.createTeam(`Team ${i}`));
    const roles: Role[][] = draw.users.map((r) => r.slice(0, draw.teams));
    const users: SyncClient[] = [];
    for (let u = 0; u < roles.length; u++) {
      const client = new TestClient(t.app);
      const res = await client.signup(
        `user${u}@example.org`,
        `User ${u}`,
        await a.invite(teams[0]!),
      );
      const id = ((await res.json()) as { user: { id: string } }).user.id;
      // The invitation made them a clinician of team 0: set the drawn roles instead.
      await a.admin.delete(`/api/admin/teams/${teams[0]}/members/${id}`);
      for (let k = 0; k < draw.teams; k++) {
        const role = roles[u]![k];
        if (role) await a.admin.post(`/api/admin/teams/${teams[k]}/members`, { userId: id, role });
      }
      users.push(new SyncClient(client, id));
    }

    const readable = (u: number) => teams.filter((_, k) => roles[u]![k] !== null);
    const writable = (u: number) => teams.filter((_, k) => roles[u]![k] === 'clinician');
    const stored = new Map<string, string>(); // record id -> team
    const blobs = new Map<string, string>(); // sha -> team

    const write = async (w: World['writes'][number], n: number) => {
      const u = w.user % users.length;
      const team = teams[w.team % teams.length]!;
      const p = patient(team);
      const records = w.report
        ? [p, report(team, p.id, { status: n % 2 ? 'shared' : 'draft' })]
        : [p];
      const results = await users[u]!.push(
        records.map((r) => mutation(w.report && r !== p ? 'reports' : 'patients', r)),
      );
      const mayWrite = writable(u).includes(team);
      results.forEach((r: MutationResult, i) => {
        expect(r.status, `${JSON.stringify(r)} by user ${u} into team ${team}`).toBe(
          mayWrite ? 'applied' : 'rejected',
        );
        if (mayWrite) stored.set(records[i]!.id, team);
      });
      if (w.image) {
        const bytes = new TextEncoder().encode(`image ${n} ${team}`);
        const sha = createHash('sha256').update(bytes).digest('hex');
        const res = await blobRequest(
          t.app,
          users[u]!.client,
          'PUT',
          `/api/blobs/${sha}?teamId=${team}`,
          bytes,
          {
            'content-type': 'image/png',
          },
        );
        expect(res.status).toBe(mayWrite ? 201 : 403);
        if (mayWrite) blobs.set(sha, team);
      }
    };

    const verify = async () => {
      for (let u = 0; u < users.length; u++) {
        const mine = new Set(readable(u));
        const changes: PullChange[] = await users[u]!.pullAll();
        for (const c of changes) {
          const team = c.record.teamId as string;
          expect(mine.has(team), `user ${u} got ${c.id} of another team`).toBe(true);
          // A team the user only supervises: its review-side records, never clinical ones.
          if (!writable(u).includes(team)) {
            expect(['reviews', 'comments', 'followups']).toContain(c.table);
          }
          expect(stored.get(c.id)).toBe(c.record.teamId);
        }
        // Everything of a clinician's own teams reaches them.
        const expected = [...stored]
          .filter(([, team]) => writable(u).includes(team))
          .map(([id]) => id);
        const got = new Set(changes.map((c) => c.id));
        for (const id of expected) expect(got.has(id), `user ${u} misses ${id}`).toBe(true);
        for (const [sha, team] of blobs) {
          const r = await blobRequest(t.app, users[u]!.client, 'GET', `/api/blobs/${sha}`);
          // Supervisors see only the images of diagnoses in shared reports (none here).
          expect(r.status, `user ${u}, blob of ${team}`).toBe(
            writable(u).includes(team) ? 200 : 404,
          );
        }
        const conflicts = (await (await users[u]!.client.get('/api/sync/conflicts')).json()) as {
          conflicts: { teamId: string }[];
        };
        for (const c of conflicts.conflicts) expect(writable(u)).toContain(c.teamId);
        expect((await users[u]!.client.get('/api/admin/users')).status).toBe(403);
      }
    };

    const half = Math.ceil(draw.writes.length / 2);
    for (const [n, w] of draw.writes.slice(0, half).entries()) await write(w, n);
    await verify();

    // A membership changes; devices that pulled before must not keep getting the old team.
    const cu = draw.change.user % users.length;
    const ct = draw.change.team % teams.length;
    const changedId = users[cu]!.userId;
    if (roles[cu]![ct]) await a.admin.delete(`/api/admin/teams/${teams[ct]}/members/${changedId}`);
    if (draw.change.role) {
      await a.admin.post(`/api/admin/teams/${teams[ct]}/members`, {
        userId: changedId,
        role: draw.change.role,
      });
    }
    roles[cu]![ct] = draw.change.role;
    for (const [n, w] of draw.writes.slice(half).entries()) await write(w, half + n);
    await verify();
  } finally {
    t.close();
    data.remove();
  }
}

describe('scope holds for random teams, roles and records', () => {
  it('no route returns or accepts a record or blob outside the caller’s teams', async () => {
    await fc.assert(fc.asyncProperty(world, check), { numRuns: RUNS, seed: SEED });
  }, 120_000);
});
