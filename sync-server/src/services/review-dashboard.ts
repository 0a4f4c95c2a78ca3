import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from '../errors';
import type { DashboardResponse } from '../protocol';
import type { TxRepositories } from '../repositories';
import { reviewTeams } from './review-queue';
import type { Scope } from './scope';
import { median, weekNumber, weekNumberToDate, wilson } from './stats';

/*
 * The supervisor's dashboard (issue 11): workload, clinicians, device backups and model
 * monitoring, aggregated in SQL over the review read models within the caller's teams.
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** positives / n of a model version's validation split, or null when unknown. */
export type PrevalenceOf = (modelId: string, modelVersion: string) => number | null;

/** The published models of the repository (models/<id>/manifest.json). */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));

/** Reads each manifest once; a model the server lacks has no prevalence. */
export function manifestPrevalence(modelsDir = DEFAULT_MODELS_DIR): PrevalenceOf {
  const cache = new Map<string, number | null>();
  return (modelId, modelVersion) => {
    const key = `${modelId}@${modelVersion}`;
    if (cache.has(key)) return cache.get(key)!;
    let value: number | null = null;
    if (/^[a-z0-9][a-z0-9-]*$/.test(modelId)) {
      try {
        const manifest = JSON.parse(
          readFileSync(path.join(modelsDir, modelId, 'manifest.json'), 'utf8'),
        ) as { version?: string; metrics?: { n?: number; positives?: number } };
        const { n, positives } = manifest.metrics ?? {};
        if (manifest.version === modelVersion && typeof n === 'number' && n > 0) {
          value = typeof positives === 'number' ? positives / n : null;
        }
      } catch {
        value = null;
      }
    }
    cache.set(key, value);
    return value;
  };
}

export interface DashboardRequest {
  teamId?: string;
  from?: string;
  to?: string;
  backupAlertDays: number;
}

export async function dashboard(
  repos: Pick<TxRepositories, 'reviewReports' | 'teams'>,
  scope: Scope,
  q: DashboardRequest,
  now: Date,
  prevalenceOf: PrevalenceOf,
): Promise<DashboardResponse> {
  const all = await reviewTeams(repos, scope);
  if (q.teamId !== undefined && !all.includes(q.teamId)) {
    throw new ApiError(403, 'forbidden', 'You do not review this team');
  }
  const teams = q.teamId !== undefined ? [q.teamId] : all;
  const today = now.toISOString().slice(0, 10);
  const to = q.to ?? today;
  const from =
    q.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 83 * DAY_MS).toISOString().slice(0, 10);
  if (from > to) throw new ApiError(400, 'invalid_request', 'from: must not be after to');
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`) + DAY_MS;
  // Weekly figures come from counters per week (services/review-index.ts): a period covers the
  // weeks it overlaps.
  const firstWeek = weekNumber(start);
  const lastWeek = weekNumber(end - 1);
  const read = repos.reviewReports;
  // Independent reads: on PostgreSQL they may run on several connections at once.
  const [teamRows, activity, waiting, toReview, clinicianRows, deviceRows, runs, verdictCounts] =
    await Promise.all([
      read.teamNames(teams),
      read.clinicianWeeks(teams, firstWeek, lastWeek),
      read.awaitingSharedAt(teams),
      read.shareToReviewMs(teams, start, end),
      read.clinicians(teams),
      read.clinicianDevices(teams),
      read.modelWeeks(teams, firstWeek, lastWeek),
      // The latest verdict on each result (given in the period) is the field truth.
      read.verdictCounts(teams, start, end),
    ]);

  // Workload ------------------------------------------------------------------------------
  const shared = activity.filter((a) => a.n > 0);
  const encounters = activity
    .filter((a) => a.encounters > 0)
    .map((a) => ({ userId: a.clinicianId, teamId: a.teamId, week: a.week, n: a.encounters }));

  const ages = waiting.map((s) => Math.max(0, now.getTime() - s) / HOUR_MS);
  const bucket = (lo: number, hi: number) => ages.filter((h) => h >= lo * 24 && h < hi * 24).length;

  // Clinicians -------------------------------------------------------------------------------
  const group = <T extends { teamId: string }>(rows: T[], userOf: (r: T) => string) => {
    const m = new Map<string, T[]>();
    for (const r of rows) {
      const k = `${r.teamId}\u0000${userOf(r)}`;
      const list = m.get(k);
      if (list) list.push(r);
      else m.set(k, [r]);
    }
    return m;
  };
  const sharedBy = group(shared, (s) => s.clinicianId);
  const encountersBy = group(encounters, (e) => e.userId);
  const clinicians = clinicianRows.map((u) => {
    const k = `${u.teamId}\u0000${u.id}`;
    const mine = sharedBy.get(k) ?? [];
    const reports = mine.reduce((a, s) => a + s.n, 0);
    const returned = mine.reduce((a, s) => a + s.returned, 0);
    return {
      id: u.id,
      name: u.name,
      teamId: u.teamId,
      encountersPerWeek: (encountersBy.get(k) ?? []).map((e) => ({
        week: weekNumberToDate(e.week),
        count: e.n,
      })),
      reportsPerWeek: mine.map((s) => ({ week: weekNumberToDate(s.week), count: s.n })),
      reports,
      returned,
      returnedRate: reports > 0 ? returned / reports : null,
    };
  });

  // Devices ----------------------------------------------------------------------------------
  const devices = deviceRows.map((d) => {
    const days = d.lastPushAt === null ? null : (now.getTime() - d.lastPushAt) / DAY_MS;
    return {
      deviceId: d.deviceId,
      userId: d.userId,
      userName: d.userName,
      teamId: d.teamId,
      lastBackupAt: d.lastPushAt === null ? null : new Date(d.lastPushAt).toISOString(),
      daysSinceBackup: days,
      alert: days === null || days > q.backupAlertDays,
    };
  });

  // Models -----------------------------------------------------------------------------------
  const keyOf = (id: string, version: string) => `${id}\u0000${version}`;
  const models = new Map<string, DashboardResponse['models'][number]>();
  const modelOf = (modelId: string, modelVersion: string, modelName: string) => {
    const key = keyOf(modelId, modelVersion);
    let m = models.get(key);
    if (!m) {
      m = {
        modelId,
        modelVersion,
        modelName,
        runs: 0,
        positiveRate: wilson(0, 0),
        validationPrevalence: prevalenceOf(modelId, modelVersion),
        runsPerWeek: [],
        agreement: wilson(0, 0),
        verdicts: { right: 0, wrong: 0, cantTell: 0 },
        accuracy: wilson(0, 0),
        sensitivity: wilson(0, 0),
        specificity: wilson(0, 0),
        alert: false,
      };
      models.set(key, m);
    }
    return m;
  };
  const totals = new Map<string, { positives: number; assessed: number; agreed: number }>();
  for (const r of runs) {
    const m = modelOf(r.modelId, r.modelVersion, r.modelName);
    const rate = wilson(r.positives, r.n);
    const p0 = m.validationPrevalence;
    const alert = p0 !== null && (rate.low! > p0 || rate.high! < p0);
    m.runsPerWeek.push({
      week: weekNumberToDate(r.week),
      runs: r.n,
      positives: r.positives,
      positiveRate: rate,
      alert,
    });
    m.runs += r.n;
    m.alert ||= alert;
    const t = totals.get(keyOf(r.modelId, r.modelVersion)) ?? {
      positives: 0,
      assessed: 0,
      agreed: 0,
    };
    t.positives += r.positives;
    t.assessed += r.assessed;
    t.agreed += r.agreed;
    totals.set(keyOf(r.modelId, r.modelVersion), t);
  }
  for (const [key, t] of totals) {
    const m = models.get(key)!;
    m.positiveRate = wilson(t.positives, m.runs);
    m.agreement = wilson(t.agreed, t.assessed);
  }
  const confusion = new Map<string, { tp: number; fp: number; tn: number; fn: number }>();
  for (const v of verdictCounts) {
    const m = modelOf(v.modelId, v.modelVersion, v.modelId);
    const key = keyOf(v.modelId, v.modelVersion);
    const cm = confusion.get(key) ?? { tp: 0, fp: 0, tn: 0, fn: 0 };
    if (v.verdict === 'cant_tell') {
      m.verdicts.cantTell += v.n;
    } else if (v.verdict === 'right') {
      m.verdicts.right += v.n;
      if (v.modelPositive) cm.tp += v.n;
      else cm.tn += v.n;
    } else {
      m.verdicts.wrong += v.n;
      if (v.modelPositive) cm.fp += v.n;
      else cm.fn += v.n;
    }
    confusion.set(key, cm);
  }
  for (const [key, cm] of confusion) {
    const m = models.get(key)!;
    m.accuracy = wilson(cm.tp + cm.tn, cm.tp + cm.tn + cm.fp + cm.fn);
    m.sensitivity = wilson(cm.tp, cm.tp + cm.fn);
    m.specificity = wilson(cm.tn, cm.tn + cm.fp);
  }

  return {
    period: { from, to },
    teams: teamRows,
    workload: {
      sharedPerWeek: shared.map((s) => ({
        week: weekNumberToDate(s.week),
        teamId: s.teamId,
        clinicianId: s.clinicianId,
        count: s.n,
      })),
      queueAge: {
        awaiting: ages.length,
        medianHours: median(ages),
        oldestHours: ages.length > 0 ? ages.reduce((a, b) => Math.max(a, b)) : null,
        buckets: [
          { label: 'under 1 day', count: bucket(0, 1) },
          { label: '1 to 3 days', count: bucket(1, 3) },
          { label: '3 to 7 days', count: bucket(3, 7) },
          { label: 'over 7 days', count: bucket(7, Infinity) },
        ],
      },
      medianShareToReviewHours: ((m) => (m === null ? null : m / HOUR_MS))(median(toReview)),
    },
    clinicians,
    devices,
    backupAlertDays: q.backupAlertDays,
    models: [...models.values()].sort(
      (a, b) => a.modelId.localeCompare(b.modelId) || a.modelVersion.localeCompare(b.modelVersion),
    ),
  };
}
