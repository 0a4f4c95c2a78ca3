import type { DashboardResponse } from 'sync-server/protocol';
import { describe, expect, it } from 'vitest';
import {
  dashboardAlerts,
  formatProportion,
  positiveRateChart,
  sharedPerWeekByTeam,
} from './dashboard';

const p = (k: number, n: number, low: number, high: number) => ({
  k,
  n,
  value: n ? k / n : null,
  low,
  high,
});

const dashboard: DashboardResponse = {
  period: { from: '2026-01-05', to: '2026-01-25' },
  teams: [
    { id: 't1', name: 'North' },
    { id: 't2', name: 'South' },
  ],
  workload: {
    sharedPerWeek: [
      { week: '2026-01-12', teamId: 't1', clinicianId: 'a', count: 2 },
      { week: '2026-01-05', teamId: 't1', clinicianId: 'a', count: 1 },
      { week: '2026-01-05', teamId: 't1', clinicianId: 'b', count: 3 },
      { week: '2026-01-12', teamId: 't2', clinicianId: 'c', count: 5 },
    ],
    queueAge: { awaiting: 0, medianHours: null, oldestHours: null, buckets: [] },
    medianShareToReviewHours: null,
  },
  clinicians: [],
  devices: [
    {
      deviceId: 'd1',
      userId: 'a',
      userName: 'Ami',
      teamId: 't1',
      lastBackupAt: '2026-01-01T00:00:00.000Z',
      daysSinceBackup: 5.5,
      alert: true,
    },
    {
      deviceId: 'd2',
      userId: 'b',
      userName: 'Ben',
      teamId: 't1',
      lastBackupAt: null,
      daysSinceBackup: null,
      alert: false,
    },
  ],
  backupAlertDays: 3,
  models: [
    {
      modelId: 'pneumonia-cxr',
      modelVersion: '1.0.0',
      modelName: 'Pneumonia',
      runs: 10,
      positiveRate: p(9, 10, 0.6, 0.98),
      validationPrevalence: 0.5,
      runsPerWeek: [
        {
          week: '2026-01-05',
          runs: 10,
          positives: 9,
          positiveRate: p(9, 10, 0.6, 0.98),
          alert: true,
        },
      ],
      agreement: p(0, 0, 0, 0),
      verdicts: { right: 0, wrong: 0, cantTell: 0 },
      accuracy: p(0, 0, 0, 0),
      sensitivity: p(0, 0, 0, 0),
      specificity: p(0, 0, 0, 0),
      alert: true,
    },
  ],
};

describe('dashboard figures', () => {
  it('sums reports per week and team, weeks in order, teams by name', () => {
    const chart = sharedPerWeekByTeam(dashboard);
    expect(chart.labels).toEqual(['2026-01-05', '2026-01-12']);
    expect(chart.series).toEqual([
      { label: 'North', values: [4, 2] },
      { label: 'South', values: [0, 5] },
    ]);
  });

  it('draws a model’s weekly rate with its interval and the validation prevalence', () => {
    const chart = positiveRateChart(dashboard.models[0]!);
    expect(chart.series.map((s) => s.label)).toEqual([
      'Positive rate',
      '95% low',
      '95% high',
      'Validation prevalence',
    ]);
    expect(chart.series[0]!.values).toEqual([0.9]);
    expect(chart.series[3]!.values).toEqual([0.5]);
  });

  it('words proportions and alerts', () => {
    expect(formatProportion(p(36, 50, 0.5853, 0.8203))).toBe('72.0 % (95 % CI 58.5–82.0 %; 36/50)');
    expect(formatProportion(p(0, 0, 0, 0))).toBe('no data');
    const alerts = dashboardAlerts(dashboard).map((a) => a.message);
    expect(alerts).toEqual([
      'Pneumonia (pneumonia-cxr v1.0.0): weekly positive rate outside its validation baseline in the weeks of 2026-01-05.',
      'Ami: a device not backed up for 5 days (more than 3).',
    ]);
  });
});
