import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DashboardResponse, type MutationResult } from '../protocol';
import { wilson } from '../services/stats';
import {
  diagnosis,
  mutation,
  patient,
  report,
  review,
  type SyncClient,
  syncWorld,
  uid,
} from '../sync-test-utils';
import { DAY, errorOf } from '../test-utils';

// The bundled pneumonia model: the dashboard compares field results with its manifest's figures.
const bundled = JSON.parse(
  readFileSync(new URL('../../../models/pneumonia-cxr/manifest.json', import.meta.url), 'utf8'),
) as { version: string; metrics: { n: number; positives: number } };

/*
 * The dashboard against seeded data with answers worked out by hand: counts, medians, returned
 * rates, backup alerts and the model figures with their Wilson intervals.
 */

const HOUR = 3_600_000;

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}
type World = Awaited<ReturnType<typeof setup>>;

function applied(r: MutationResult) {
  expect(r, JSON.stringify(r)).toMatchObject({ status: 'applied' });
}

const assessment = (verdict: string) => ({
  verdict,
  note: '',
  at: '2026-01-15T10:00:00Z',
  by: 'x',
});

/** A shared report with one pneumonia-cxr result of probability p, with the clinician's verdict. */
async function shareCase(w: World, by: SyncClient, p: number, verdict = 'agree') {
  const pat = patient(w.teamA);
  const e = {
    id: uid('e'),
    teamId: w.teamA,
    version: 0,
    updatedAt: '2026-01-15T10:00:00.000Z',
    updatedBy: 'x',
    deleted: false,
    patientId: pat.id,
    date: '2026-01-15',
    complaint: '',
    vitals: {},
    symptoms: [],
    notes: '',
  };
  const d = diagnosis(w.teamA, pat.id, {
    encounterId: e.id,
    modelId: 'pneumonia-cxr',
    modelVersion: bundled.version,
    modelName: 'Pneumonia on a chest X-ray',
    outputs: { normal: 1 - p, pneumonia: p },
    positiveLabel: 'pneumonia',
    threshold: 0.5,
    assessment: assessment(verdict),
  });
  const r = report(w.teamA, pat.id, { encounterId: e.id, diagnosisIds: [d.id] });
  (
    await by.push([
      mutation('patients', pat),
      mutation('encounters', e),
      mutation('diagnoses', d),
      mutation('reports', r),
    ])
  ).forEach(applied);
  return { r, d };
}

async function getDashboard(w: World, query = '') {
  const res = await w.sam.client.get(`/api/review/dashboard${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return DashboardResponse.parse(await res.json());
}

describe('GET /api/review/dashboard', () => {
  it('gives the known answers on seeded data', async () => {
    const w = await setup();
    // Week of Monday 2026-01-12 (the clock starts Thursday 15th, 10:00).
    const c1 = await shareCase(w, w.alice, 0.9); // positive, agreed
    const c2 = await shareCase(w, w.alice, 0.8, 'disagree'); // positive, clinician disagrees
    const c3 = await shareCase(w, w.alice, 0.1); // negative, agreed
    await shareCase(w, w.bob, 0.2, 'unsure'); // c4: negative, waits

    // Reviews 2 h (c1), 4 h (c2), 6 h (c3) after sharing; c4 waits.
    w.clock.advance(2 * HOUR);
    applied(
      await w.sam.pushOne(
        mutation(
          'reviews',
          review(w.teamA, c1.r.id, { verdicts: [{ diagnosisId: c1.d.id, verdict: 'right' }] }),
        ),
      ),
    );
    w.clock.advance(2 * HOUR);
    const wrong = { verdicts: [{ diagnosisId: c2.d.id, verdict: 'wrong' }] };
    applied(
      await w.sam.pushOne(
        mutation(
          'reviews',
          review(w.teamA, c2.r.id, { decision: 'returned', comment: 'No', ...wrong }),
        ),
      ),
    );
    w.clock.advance(2 * HOUR);
    applied(
      await w.sam.pushOne(
        mutation(
          'reviews',
          review(w.teamA, c3.r.id, { verdicts: [{ diagnosisId: c3.d.id, verdict: 'right' }] }),
        ),
      ),
    );
    // bob's device backs up now; alice's last push is now 6 h old. Four days later alice's is
    // an alert (over 3 days), bob's too unless he pushes again: he does, a day before.
    w.clock.advance(3 * DAY);
    await w.bob.push([]);
    w.clock.advance(DAY);

    const d = await getDashboard(w, '?from=2026-01-01&to=2026-01-31');
    expect(d.period).toEqual({ from: '2026-01-01', to: '2026-01-31' });
    expect(d.workload.sharedPerWeek).toEqual(
      [
        { week: '2026-01-12', teamId: w.teamA, clinicianId: w.alice.userId, count: 3 },
        { week: '2026-01-12', teamId: w.teamA, clinicianId: w.bob.userId, count: 1 },
      ].sort((a, b) => a.clinicianId.localeCompare(b.clinicianId)),
    );
    // c4 waits 4 days 6 hours = 102 h.
    expect(d.workload.queueAge).toMatchObject({ awaiting: 1, medianHours: 102, oldestHours: 102 });
    expect(d.workload.queueAge.buckets.map((b) => b.count)).toEqual([0, 0, 1, 0]);
    expect(d.workload.medianShareToReviewHours).toBe(4);

    const alice = d.clinicians.find((c) => c.id === w.alice.userId)!;
    expect(alice).toMatchObject({ reports: 3, returned: 1, returnedRate: 1 / 3 });
    expect(alice.encountersPerWeek).toEqual([{ week: '2026-01-12', count: 3 }]);
    const bob = d.clinicians.find((c) => c.id === w.bob.userId)!;
    expect(bob).toMatchObject({ reports: 1, returned: 0, returnedRate: 0 });

    const byUser = Object.fromEntries(d.devices.map((x) => [x.userId, x]));
    expect(byUser[w.alice.userId]).toMatchObject({ alert: true, daysSinceBackup: 4.25 });
    expect(byUser[w.bob.userId]).toMatchObject({ alert: false, daysSinceBackup: 1 });

    expect(d.models).toHaveLength(1);
    const m = d.models[0]!;
    expect(m).toMatchObject({
      modelId: 'pneumonia-cxr',
      modelVersion: bundled.version,
      runs: 4,
      validationPrevalence: bundled.metrics.positives / bundled.metrics.n,
      verdicts: { right: 2, wrong: 1, cantTell: 0 },
    });
    expect(m.positiveRate).toEqual(wilson(2, 4));
    // Assessed 4, agreed 2 (c1, c3).
    expect(m.agreement).toEqual(wilson(2, 4));
    // c1 positive+right = TP, c2 positive+wrong = FP, c3 negative+right = TN.
    expect(m.accuracy).toEqual(wilson(2, 3));
    expect(m.sensitivity).toEqual(wilson(1, 1));
    expect(m.specificity).toEqual(wilson(1, 2));
    expect(m.accuracy.low).toBeCloseTo(0.2077, 3);
    expect(m.accuracy.high).toBeCloseTo(0.9385, 3);
    // Week of 2 positives in 4: [0.15, 0.85] holds 0.742: no alert.
    expect(m.runsPerWeek).toEqual([
      { week: '2026-01-12', runs: 4, positives: 2, positiveRate: wilson(2, 4), alert: false },
    ]);
    expect(m.alert).toBe(false);

    // A later verdict on the same result replaces the earlier one.
    applied(
      await w.sam.pushOne(
        mutation(
          'reviews',
          review(w.teamA, c2.r.id, { verdicts: [{ diagnosisId: c2.d.id, verdict: 'right' }] }),
        ),
      ),
    );
    const after = (await getDashboard(w, '?from=2026-01-01&to=2026-01-31')).models[0]!;
    expect(after.verdicts).toEqual({ right: 3, wrong: 0, cantTell: 0 });
    expect(after.sensitivity).toEqual(wilson(2, 2));
  });

  it('raises the model alert when a week’s positive rate leaves the validation prevalence', async () => {
    const w = await setup();
    // 8 runs, none positive: Wilson [0, 0.324] excludes 0.742.
    for (let i = 0; i < 8; i++) await shareCase(w, w.alice, 0.05);
    const m = (await getDashboard(w)).models[0]!;
    expect(m.runsPerWeek[0]).toMatchObject({ runs: 8, positives: 0, alert: true });
    expect(m.alert).toBe(true);
    expect(m.runsPerWeek[0]!.positiveRate.high).toBeCloseTo(0.3244, 3);
  });

  it('counts an encounter once, in the week it was recorded, however often it is edited', async () => {
    const w = await setup();
    const pat = patient(w.teamA);
    applied(await w.alice.pushOne(mutation('patients', pat)));
    const e = { ...patient(w.teamA), patientId: pat.id, date: '2026-01-15', notes: '' };
    applied(await w.alice.pushOne(mutation('encounters', e)));
    w.clock.advance(7 * DAY);
    applied(await w.alice.pushOne(mutation('encounters', { ...e, notes: 'better' }, 1)));
    applied(await w.bob.pushOne(mutation('encounters', { ...e, notes: 'well' }, 2)));
    const d = await getDashboard(w, '?from=2026-01-01&to=2026-01-31');
    const alice = d.clinicians.find((c) => c.id === w.alice.userId)!;
    expect(alice.encountersPerWeek).toEqual([{ week: '2026-01-12', count: 1 }]);
    expect(d.clinicians.find((c) => c.id === w.bob.userId)?.encountersPerWeek ?? []).toEqual([]);
  });

  it('keeps to the caller’s teams', async () => {
    const w = await setup();
    const other = await w.sam.client.get(`/api/review/dashboard?teamId=${w.teamB}`);
    expect(other.status).toBe(403);
    expect((await w.alice.client.get('/api/review/dashboard')).status).toBe(403);
    const bad = await w.sam.client.get('/api/review/dashboard?from=2026-02-01&to=2026-01-01');
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toBe('from: must not be after to');
    expect((await w.admin.get(`/api/review/dashboard?teamId=${w.teamB}`)).status).toBe(200);
  });
});
