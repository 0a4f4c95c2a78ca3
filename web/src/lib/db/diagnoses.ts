import {
  newMeta,
  type Assessment,
  type Author,
  type Diagnosis,
  type DiagnosisFields,
} from '$lib/domain/records';
import type { FieldDxDatabase } from './database';
import { newId, touched, writeRecord } from './records';

/** Saves one model run. It is immutable from now on, apart from the clinician's assessment. */
export async function saveDiagnosis(
  db: FieldDxDatabase,
  fields: DiagnosisFields,
  author: Author,
  now = new Date(),
): Promise<Diagnosis> {
  return writeRecord(db, 'diagnoses', { ...newMeta(newId(), author, now), ...fields });
}

export async function setAssessment(
  db: FieldDxDatabase,
  id: string,
  assessment: Assessment,
  author: Author,
  now = new Date(),
): Promise<Diagnosis> {
  const current = await db.diagnoses.get(id);
  if (!current) throw new Error('This diagnosis no longer exists on this device.');
  return writeRecord(db, 'diagnoses', { ...touched(current, author, now), assessment });
}

export function getDiagnosis(db: FieldDxDatabase, id: string) {
  return db.diagnoses.get(id);
}

export async function listDiagnoses(db: FieldDxDatabase, patientId: string): Promise<Diagnosis[]> {
  const rows = await db.diagnoses.where('patientId').equals(patientId).toArray();
  return rows.filter((d) => !d.deleted).sort((a, b) => b.id.localeCompare(a.id));
}
