import { describe, expect, it } from 'vitest';
import { buildWorklist } from './worklist';
import { EMPTY_VITALS, type Diagnosis, type Encounter, type Report } from './records';

const meta = (id: string, deleted = false) => ({
  id,
  teamId: 't',
  version: 0,
  updatedAt: '2026-11-26T08:00:00Z',
  updatedBy: 'u',
  deleted,
});
const visit = (id: string, date: string, complaint = 'Cough', deleted = false): Encounter => ({
  ...meta(id, deleted),
  patientId: 'p',
  date,
  complaint,
  vitals: EMPTY_VITALS,
  symptoms: [],
  notes: '',
});
const result = (id: string, assessed: boolean): Diagnosis =>
  ({
    ...meta(id),
    assessment: assessed ? { verdict: 'agree', note: '', at: '', by: 'u' } : null,
  }) as Diagnosis;
const report = (id: string, status: Report['status'], deleted = false): Report =>
  ({ ...meta(id, deleted), status }) as Report;

describe('the clinician worklist', () => {
  it('keeps only what this clinician last edited', () => {
    const theirs = { ...visit('t', '2026-11-26'), updatedBy: 'someone else' };
    const list = buildWorklist(
      {
        encounters: [theirs],
        diagnoses: [{ ...result('r', false), updatedBy: 'someone else' }],
        reports: [],
        visitsWithDraft: new Set(),
        userId: 'u',
      },
      '2026-11-26',
    );
    expect([...list.today, ...list.awaitingAssessment]).toEqual([]);
  });

  it('lists today, unfinished visits, results to assess and drafts not shared', () => {
    const list = buildWorklist(
      {
        encounters: [
          visit('a', '2026-11-26'),
          visit('b', '2026-11-20'),
          visit('c', '2026-11-21', ''),
          visit('d', '2026-11-22'),
          visit('e', '2026-11-26', 'x', true),
        ],
        diagnoses: [result('r1', false), result('r2', true)],
        reports: [report('s1', 'draft'), report('s2', 'shared'), report('s3', 'draft', true)],
        visitsWithDraft: new Set(['d']),
        userId: 'u',
      },
      '2026-11-26',
    );
    expect(list.today.map((e) => e.id)).toEqual(['a']);
    expect(list.unfinished.map((e) => e.id)).toEqual(['d', 'c']);
    expect(list.awaitingAssessment.map((d) => d.id)).toEqual(['r1']);
    expect(list.draftReports.map((r) => r.id)).toEqual(['s1']);
  });
});
