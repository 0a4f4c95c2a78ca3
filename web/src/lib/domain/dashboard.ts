import type { DashboardResponse, Proportion } from 'sync-server/protocol';
import { formatNumber } from '$lib/i18n/format';
import { m as msg } from '$lib/paraglide/messages';

export interface ChartData {
  labels: string[];
  series: { label: string; values: (number | null)[]; line?: boolean; dashed?: boolean }[];
}

const sortedUnique = (values: Iterable<string>) => [...new Set(values)].sort();

/** Reports shared per week, one series per team (stacked bars). */
export function sharedPerWeekByTeam(d: DashboardResponse): ChartData {
  const weeks = sortedUnique(d.workload.sharedPerWeek.map((r) => r.week));
  const teamName = new Map(d.teams.map((t) => [t.id, t.name]));
  const teamIds = sortedUnique(d.workload.sharedPerWeek.map((r) => r.teamId));
  return {
    labels: weeks,
    series: teamIds.map((teamId) => ({
      label: teamName.get(teamId) ?? teamId,
      values: weeks.map((week) =>
        d.workload.sharedPerWeek
          .filter((r) => r.week === week && r.teamId === teamId)
          .reduce((sum, r) => sum + r.count, 0),
      ),
    })),
  };
}

/** Reports shared per clinician over the period, most first (the `top` busiest). */
export function sharedByClinician(d: DashboardResponse, top = 15): ChartData {
  const rows = [...d.clinicians].sort((a, b) => b.reports - a.reports).slice(0, top);
  return {
    labels: rows.map((c) => c.name),
    series: [
      { label: msg.db_series_reports(), values: rows.map((c) => c.reports) },
      { label: msg.db_series_returned(), values: rows.map((c) => c.returned) },
    ],
  };
}

/** Encounters and reports per week over all clinicians shown. */
export function activityPerWeek(d: DashboardResponse): ChartData {
  const weeks = sortedUnique(
    d.clinicians.flatMap((c) => [...c.encountersPerWeek, ...c.reportsPerWeek].map((w) => w.week)),
  );
  const total = (pick: 'encountersPerWeek' | 'reportsPerWeek', week: string) =>
    d.clinicians.reduce(
      (sum, c) => sum + c[pick].filter((w) => w.week === week).reduce((s, w) => s + w.count, 0),
      0,
    );
  return {
    labels: weeks,
    series: [
      {
        label: msg.db_series_encounters(),
        values: weeks.map((w) => total('encountersPerWeek', w)),
      },
      { label: msg.db_series_reports(), values: weeks.map((w) => total('reportsPerWeek', w)) },
    ],
  };
}

type ModelRow = DashboardResponse['models'][number];

/** A model's weekly positive rate with its 95 % interval and the validation prevalence. */
export function positiveRateChart(model: ModelRow): ChartData {
  const weeks = model.runsPerWeek.map((w) => w.week);
  const series: ChartData['series'] = [
    {
      label: msg.db_series_positive_rate(),
      values: model.runsPerWeek.map((w) => w.positiveRate.value),
    },
    {
      label: msg.db_series_ci_low(),
      values: model.runsPerWeek.map((w) => w.positiveRate.low),
      line: true,
      dashed: true,
    },
    {
      label: msg.db_series_ci_high(),
      values: model.runsPerWeek.map((w) => w.positiveRate.high),
      line: true,
      dashed: true,
    },
  ];
  if (model.validationPrevalence !== null) {
    series.push({
      label: msg.db_series_validation_prevalence(),
      values: weeks.map(() => model.validationPrevalence),
      line: true,
    });
  }
  return { labels: weeks, series };
}

export const modelKey = (m: Pick<ModelRow, 'modelId' | 'modelVersion'>) =>
  `${m.modelId} v${m.modelVersion}`;

/** "72.0 % (95 % CI 61.2–80.9 %; 36/50)", or "no data". */
export function formatProportion(p: Proportion): string {
  if (p.value === null || p.n === 0) return msg.db_no_data();
  const pct = (v: number | null) =>
    v === null
      ? '?'
      : formatNumber(v * 100, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return msg.db_proportion({
    value: pct(p.value),
    low: pct(p.low),
    high: pct(p.high),
    k: formatNumber(p.k),
    n: formatNumber(p.n),
  });
}

export interface Alert {
  kind: 'model' | 'backup';
  message: string;
}

/** What needs the supervisor's attention, in words. */
export function dashboardAlerts(d: DashboardResponse): Alert[] {
  const alerts: Alert[] = [];
  for (const m of d.models) {
    const weeks = m.runsPerWeek.filter((w) => w.alert).map((w) => w.week);
    if (m.alert || weeks.length > 0) {
      alerts.push({
        kind: 'model',
        message: weeks.length
          ? msg.db_alert_model_weeks({
              model: m.modelName,
              key: modelKey(m),
              weeks: weeks.join(', '),
            })
          : msg.db_alert_model({ model: m.modelName, key: modelKey(m) }),
      });
    }
  }
  for (const device of d.devices.filter((x) => x.alert)) {
    alerts.push({
      kind: 'backup',
      message:
        device.lastBackupAt === null
          ? msg.db_alert_never_backed_up({ name: device.userName })
          : msg.db_alert_not_backed_up({
              name: device.userName,
              count: Math.floor(device.daysSinceBackup ?? 0),
              limit: d.backupAlertDays,
            }),
    });
  }
  return alerts;
}
