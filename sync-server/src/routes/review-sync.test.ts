import { createHash } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { listAudit } from '../services/audit';
import type { MutationResult } from '../protocol';
import {
  blobRequest,
  diagnosis,
  mutation,
  patient,
  report,
  review,
  SyncClient,
  syncWorld,
  uid,
} from '../sync-test-utils';

/*
 * Issue 11, sync side: who may write reviews, comments and follow-ups, what they must hold, and
 * what a supervisor pulls (only review-side records) and downloads (only images of shared reports).
 */

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  const m = await w.member('sue@example.org', 'supervisor', w.teamB);
  const sue = new SyncClient(m.client, m.id);
  return { ...w, sue };
}
type World = Awaited<ReturnType<typeof setup>>;

function expectStatus<S extends MutationResult['status']>(
  r: MutationResult,
  status: S,
): Extract<MutationResult, { status: S }> {
  expect(r, JSON.stringify(r)).toMatchObject({ status });
  return r as Extract<MutationResult, { status: S }>;
}
const rejectedWith = (r: MutationResult) => expectStatus(r, 'rejected');

function encounter(teamId: string, patientId: string, fields: Record<string, unknown> = {}) {
  return {
    id: uid('e'),
    teamId,
    version: 0,
    updatedAt: '2026-01-15T10:00:00.000Z',
    updatedBy: 'x',
    deleted: false,
    patientId,
    date: '2026-01-15',
    complaint: 'HIV follow-up',
    vitals: { temperatureC: 37, spo2: 97 },
    symptoms: [],
    notes: '',
    ...fields,
  };
}

function comment(teamId: string, reportId: string, body = 'Please check the SpO2') {
  return {
    id: uid('c'),
    teamId,
    version: 0,
    updatedAt: '2026-01-15T10:00:00.000Z',
    updatedBy: 'x',
    deleted: false,
    reportId,
    body,
    createdAt: '2026-01-15T10:00:00.000Z',
  };
}

function followup(teamId: string, patientId: string, fields: Record<string, unknown> = {}) {
  return {
    id: uid('f'),
    teamId,
    version: 0,
    updatedAt: '2026-01-15T10:00:00.000Z',
    updatedBy: 'x',
    deleted: false,
    patientId,
    reportId: null,
    reason: 'Recheck breathing',
    dueDate: '2026-01-20',
    status: 'open',
    doneEncounterId: null,
    doneAt: null,
    createdAt: '2026-01-15T10:00:00.000Z',
    ...fields,
  };
}

/** Alice's patient, visit and diagnosis behind a shared report (and a draft one). */
async function seeded(w: World) {
  const p = patient(w.teamA, { identifiers: [{ kind: 'National ID', value: 'NID-1' }] });
  const e = encounter(w.teamA, p.id);
  const d = diagnosis(w.teamA, p.id, { encounterId: e.id });
  const shared = report(w.teamA, p.id, { encounterId: e.id, diagnosisIds: [d.id] });
  const hidden = patient(w.teamA, { givenName: 'Hidden' });
  const he = encounter(w.teamA, hidden.id);
  const draft = report(w.teamA, hidden.id, { status: 'draft', encounterId: he.id });
  for (const [t, r] of [
    ['patients', p],
    ['encounters', e],
    ['diagnoses', d],
    ['reports', shared],
    ['patients', hidden],
    ['encounters', he],
    ['reports', draft],
  ] as const) {
    expectStatus(await w.alice.pushOne(mutation(t, r)), 'applied');
  }
  return { p, e, d, shared, hidden, draft };
}

describe('supervisor pull scope', () => {
  it('gives a supervisor only the review-side records of their teams, never clinical ones', async () => {
    const w = await setup();
    const { p, shared } = await seeded(w);
    const c = comment(w.teamA, shared.id);
    expectStatus(await w.alice.pushOne(mutation('comments', c)), 'applied');
    const v = review(w.teamA, shared.id);
    expectStatus(await w.sam.pushOne(mutation('reviews', v)), 'applied');
    const f = followup(w.teamA, p.id);
    expectStatus(await w.sam.pushOne(mutation('followups', f)), 'applied');

    const sam = await w.sam.pullAll();
    expect(sam.map((x) => [x.table, x.id]).sort()).toEqual(
      [
        ['comments', c.id],
        ['reviews', v.id],
        ['followups', f.id],
      ].sort(),
    );
    // The clinicians of the team get them all, with the author the server set.
    const bob = await w.bob.pullAll();
    expect(bob.find((x) => x.id === v.id)?.record).toMatchObject({
      authorId: w.sam.userId,
      authorName: 'Member',
    });
    expect(bob.find((x) => x.id === c.id)?.record).toMatchObject({
      authorId: w.alice.userId,
      authorRole: 'clinician',
    });
    // The supervisor of another team gets nothing of team A.
    expect(await w.sue.pullAll()).toEqual([]);
  });

  it('resets a device whose user changed role in a team, so the new scope arrives', async () => {
    const w = await setup();
    const { p } = await seeded(w);
    const first = await w.bob.pull();
    expect(first.changes.some((c) => c.id === p.id)).toBe(true);
    // bob becomes a supervisor of the same team: same team list, another role.
    const res = await w.admin.post(`/api/admin/teams/${w.teamA}/members`, {
      userId: w.bob.userId,
      role: 'supervisor',
    });
    expect(res.status).toBeLessThan(300);
    expect(await w.bob.pull(first.cursor)).toEqual({
      changes: [],
      cursor: 0,
      hasMore: true,
      reset: true,
    });
    expect(await w.bob.pullAll()).toEqual([]);
    // And back: the clinical records come again after a reset.
    await w.admin.post(`/api/admin/teams/${w.teamA}/members`, {
      userId: w.bob.userId,
      role: 'clinician',
    });
    expect((await w.bob.pull(first.cursor)).reset).toBe(true);
    expect((await w.bob.pullAll()).some((c) => c.id === p.id)).toBe(true);
  });

  it('serves a supervisor the image of a shared report, not that of a draft', async () => {
    const w = await setup();
    const { p } = await seeded(w);
    const put = async (bytes: Uint8Array) => {
      const sha = createHash('sha256').update(bytes).digest('hex');
      const res = await blobRequest(
        w.app,
        w.alice.client,
        'PUT',
        `/api/blobs/${sha}?teamId=${w.teamA}`,
        bytes,
        { 'content-type': 'image/png' },
      );
      expect(res.status).toBe(201);
      return sha;
    };
    const sharedSha = await put(new Uint8Array([1, 2, 3]));
    const draftSha = await put(new Uint8Array([4, 5, 6]));
    const image = (sha: string) => ({ kind: 'image', attachmentId: uid('a'), sha256: sha });
    const d1 = diagnosis(w.teamA, p.id, { inputs: image(sharedSha) });
    const d2 = diagnosis(w.teamA, p.id, { inputs: image(draftSha) });
    await w.alice.push([mutation('diagnoses', d1), mutation('diagnoses', d2)]);
    await w.alice.push([
      mutation('reports', report(w.teamA, p.id, { diagnosisIds: [d1.id] })),
      mutation('reports', report(w.teamA, p.id, { diagnosisIds: [d2.id], status: 'draft' })),
    ]);
    const get = (client: SyncClient, sha: string) =>
      blobRequest(w.app, client.client, 'GET', `/api/blobs/${sha}`);
    expect((await get(w.sam, sharedSha)).status).toBe(200);
    expect((await get(w.sam, draftSha)).status).toBe(404);
    expect((await get(w.sue, sharedSha)).status).toBe(404);
    expect((await blobRequest(w.app, w.admin, 'GET', `/api/blobs/${sharedSha}`)).status).toBe(200);
  });
});

describe('reviews', () => {
  it('accepts a supervisor’s or an admin’s review of a shared report, refuses everyone else', async () => {
    const w = await setup();
    const { shared, d } = await seeded(w);
    const verdicts = [{ diagnosisId: d.id, verdict: 'right', referenceOutcome: 'X-ray read' }];
    expectStatus(
      await w.sam.pushOne(mutation('reviews', review(w.teamA, shared.id, { verdicts }))),
      'applied',
    );
    expectStatus(
      await w.adminSync.pushOne(mutation('reviews', review(w.teamA, shared.id))),
      'applied',
    );
    expect(
      rejectedWith(await w.alice.pushOne(mutation('reviews', review(w.teamA, shared.id)))),
    ).toMatchObject({ code: 'forbidden', reason: 'only supervisors of the team write reviews' });
    expect(
      rejectedWith(await w.sue.pushOne(mutation('reviews', review(w.teamA, shared.id)))),
    ).toMatchObject({ code: 'forbidden' });
    // Supervisors never write clinical records.
    for (const [t, r] of [
      ['patients', patient(w.teamA)],
      ['reports', { ...shared, summary: 'changed' }],
      ['diagnoses', diagnosis(w.teamA, shared.patientId)],
    ] as const) {
      expect(rejectedWith(await w.sam.pushOne(mutation(t, r, 1))).code).toBe('forbidden');
    }
    const audit = (await listAudit(w.repos, { limit: 50, action: 'review.create' })).entries;
    expect(audit.map((a) => a.userId).sort()).toEqual([w.adminId, w.sam.userId].sort());
  });

  it('rejects reviews of drafts, of missing reports, bad verdicts and a return without comment', async () => {
    const w = await setup();
    const { shared, draft, d } = await seeded(w);
    const cases: [Record<string, unknown>, string][] = [
      [review(w.teamA, draft.id), 'the report is a draft: only shared reports can be reviewed'],
      [review(w.teamA, 'nope'), 'the report does not exist in this team'],
      [
        review(w.teamA, shared.id, { verdicts: [{ diagnosisId: 'other', verdict: 'right' }] }),
        'verdict on diagnosis other, which the report does not list',
      ],
      [
        review(w.teamA, shared.id, {
          verdicts: [
            { diagnosisId: d.id, verdict: 'right' },
            { diagnosisId: d.id, verdict: 'wrong' },
          ],
        }),
        `two verdicts on diagnosis ${d.id}`,
      ],
      [
        review(w.teamA, shared.id, { decision: 'returned', comment: '  ' }),
        'data.comment: a returned report needs a comment saying what to correct',
      ],
      [review(w.teamA, shared.id, { revision: 2 }), 'the report has no revision 2 (latest 1)'],
      [
        review(w.teamA, shared.id, { verdicts: [{ diagnosisId: d.id, verdict: 'maybe' }] }),
        "data.verdicts.0.verdict: must be 'right', 'wrong' or 'cant_tell'",
      ],
    ];
    for (const [data, reason] of cases) {
      expect(rejectedWith(await w.sam.pushOne(mutation('reviews', data)))).toMatchObject({
        code: 'invalid',
        reason,
      });
    }
  });

  it('counts revisions: a returned report shared again is a new revision', async () => {
    const w = await setup();
    const { shared } = await seeded(w);
    const revisionOf = async () =>
      (await w.bob.pullAll()).find((c) => c.id === shared.id)!.record.revision;
    expect(await revisionOf()).toBe(1);
    // An edit that keeps sharedAt stays in revision 1, whatever revision the device claims.
    await w.alice.pushOne(mutation('reports', { ...shared, summary: 'typo', revision: 9 }, 1));
    expect(await revisionOf()).toBe(1);
    const back = review(w.teamA, shared.id, { decision: 'returned', comment: 'Add SpO2' });
    expectStatus(await w.sam.pushOne(mutation('reviews', back)), 'applied');
    await w.alice.pushOne(
      mutation('reports', { ...shared, summary: 'fixed', sharedAt: '2026-01-16T08:00:00.000Z' }, 2),
    );
    expect(await revisionOf()).toBe(2);
    // An offline review of revision 1 is still accepted, as a review of revision 1.
    expectStatus(await w.sam.pushOne(mutation('reviews', review(w.teamA, shared.id))), 'applied');
    expectStatus(
      await w.sam.pushOne(mutation('reviews', review(w.teamA, shared.id, { revision: 2 }))),
      'applied',
    );
  });
});

describe('comments', () => {
  it('lets both roles write, refuses supervisors on drafts, oversized and changed comments', async () => {
    const w = await setup();
    const { shared, draft } = await seeded(w);
    const byClinician = comment(w.teamA, draft.id, 'note to self');
    expectStatus(await w.alice.pushOne(mutation('comments', byClinician)), 'applied');
    expectStatus(await w.sam.pushOne(mutation('comments', comment(w.teamA, shared.id))), 'applied');
    expect(
      rejectedWith(await w.sam.pushOne(mutation('comments', comment(w.teamA, draft.id)))),
    ).toMatchObject({ code: 'invalid', reason: expect.stringContaining('not shared') });
    const big = comment(w.teamA, shared.id, 'x'.repeat(4001));
    expect(rejectedWith(await w.sam.pushOne(mutation('comments', big)))).toMatchObject({
      code: 'invalid',
      reason: 'data.body: must be at most 4000 characters',
    });
    const edited = await w.alice.pushOne(mutation('comments', { ...byClinician, body: 'x' }, 1));
    expect(rejectedWith(edited).code).toBe('append_only');
    const logged = (await listAudit(w.repos, { limit: 50, action: 'comment.create' })).entries;
    expect(logged.map((a) => [a.target, a.detail])).toEqual([
      [expect.any(String), { teamId: w.teamA, reportId: shared.id, version: 1 }],
      [byClinician.id, { teamId: w.teamA, reportId: draft.id, version: 1 }],
    ]);
    expect(
      rejectedWith(await w.sue.pushOne(mutation('comments', comment(w.teamA, shared.id)))).code,
    ).toBe('forbidden');
  });
});

describe('follow-ups', () => {
  it('are asked by supervisors, closed by clinicians with an encounter, nothing else', async () => {
    const w = await setup();
    const { p, e, shared, hidden } = await seeded(w);
    const f = followup(w.teamA, p.id, { reportId: shared.id });
    expect(rejectedWith(await w.alice.pushOne(mutation('followups', f))).reason).toBe(
      'only supervisors of the team ask for follow-ups',
    );
    const past = followup(w.teamA, p.id, { dueDate: '2026-01-14' });
    expect(rejectedWith(await w.sam.pushOne(mutation('followups', past))).reason).toBe(
      'dueDate: must not be in the past',
    );
    const ofDraftPatient = followup(w.teamA, hidden.id);
    expect(rejectedWith(await w.sam.pushOne(mutation('followups', ofDraftPatient))).code).toBe(
      'forbidden',
    );
    expectStatus(await w.sam.pushOne(mutation('followups', f)), 'applied');

    // The clinician may not change the reason, nor close it without an encounter of the patient.
    const reworded = await w.alice.pushOne(mutation('followups', { ...f, reason: 'no' }, 1));
    expect(rejectedWith(reworded).code).toBe('forbidden');
    const noVisit = { ...f, status: 'done', doneEncounterId: 'x', doneAt: '2026-01-16T00:00:00Z' };
    expect(rejectedWith(await w.alice.pushOne(mutation('followups', noVisit, 1))).reason).toBe(
      'doneEncounterId: must be an encounter of this patient in this team',
    );
    // The supervisor may not close it for the clinician.
    const bySam = { ...noVisit, doneEncounterId: e.id };
    expect(rejectedWith(await w.sam.pushOne(mutation('followups', bySam, 1))).code).toBe(
      'forbidden',
    );
    expectStatus(await w.alice.pushOne(mutation('followups', bySam, 1)), 'applied');
    const deleted = await w.sam.pushOne(mutation('followups', { ...bySam, deleted: true }, 2));
    expect(rejectedWith(deleted).code).toBe('forbidden');
    // Each accepted write is in the audit log: who asked, who closed it, in which team and report.
    const logged = (await listAudit(w.repos, { limit: 50 })).entries
      .filter((a) => a.target === f.id)
      .reverse();
    const detail = (version: number) => ({ teamId: w.teamA, reportId: shared.id, version });
    expect(
      logged.map(({ action, userId, detail, ip }) => ({ action, userId, detail, ip })),
    ).toEqual([
      { action: 'followup.create', userId: w.sam.userId, detail: detail(1), ip: 'unknown' },
      { action: 'followup.update', userId: w.alice.userId, detail: detail(2), ip: 'unknown' },
    ]);
  });
});
