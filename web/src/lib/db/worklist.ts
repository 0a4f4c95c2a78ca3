import { buildWorklist, type Worklist } from '$lib/domain/worklist';
import type { SyncedTable } from '$lib/domain/records';
import type { FieldDxDatabase, PatientRow } from './database';
import { notBackedUp } from './records';

export interface WorklistView extends Worklist {
  /** The patients the listed records belong to, by id (for names and links). */
  patients: Map<string, PatientRow>;
  /** Records with an edit not yet on the server, per table. */
  waiting: Partial<Record<SyncedTable, number>>;
}

const VISIT_DRAFT = 'draft:encounter:';

/** Everything the home worklist shows, read in one go (a liveQuery keeps it current). */
export async function loadWorklist(
  db: FieldDxDatabase,
  userId: string,
  today: string,
): Promise<WorklistView> {
  const [encounters, diagnoses, reports, draftKeys] = await Promise.all([
    db.encounters.toArray(),
    db.diagnoses.filter((d) => !d.assessment).toArray(),
    db.reports.where('status').equals('draft').toArray(),
    db.settings.where('key').startsWith(VISIT_DRAFT).primaryKeys(),
  ]);
  const list = buildWorklist(
    {
      encounters,
      diagnoses,
      reports,
      visitsWithDraft: new Set(draftKeys.map((key) => key.slice(VISIT_DRAFT.length))),
      userId,
    },
    today,
  );
  const ids = new Set(
    [...list.today, ...list.unfinished, ...list.awaitingAssessment, ...list.draftReports].map(
      (r) => r.patientId,
    ),
  );
  const rows = await db.patients.bulkGet([...ids]);
  // A deleted patient's records leave the worklist with the patient.
  const patients = new Map(rows.filter((p) => !!p && !p.deleted).map((p) => [p!.id, p!]));
  const kept = <R extends { patientId: string }>(records: R[]) =>
    records.filter((r) => patients.has(r.patientId));
  const waiting: Partial<Record<SyncedTable, number>> = {};
  for (const table of ['patients', 'encounters', 'diagnoses', 'reports'] as const) {
    const count = (await notBackedUp(db, table)).size;
    if (count > 0) waiting[table] = count;
  }
  return {
    today: kept(list.today),
    unfinished: kept(list.unfinished),
    awaitingAssessment: kept(list.awaitingAssessment),
    draftReports: kept(list.draftReports),
    patients,
    waiting,
  };
}
