import type { Patient, PatientFields } from './records';
import { words } from './text';

/** Why a registered patient may be the person being registered, for the clinician to judge. */
export interface DuplicateCandidate<P> {
  patient: P;
  /** Higher is more alike: exact names over close ones, same village, same sex stated. */
  score: number;
  /** The given and family names were entered the other way round. */
  swapped: boolean;
}

/**
 * Edit distance counting an insertion, deletion, substitution or swap of two neighbouring letters
 * ("Kamua" for "Kamau") as one edit: the typos of a hurried registration.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * How alike two names are, 0 to 1, blind to accents, case and separators ("N'Diaye" = "Ndiaye"):
 * 1 when equal, 0.9 when one holds the other's first word ("Joseph" in "Joseph Mwangi"), else by
 * edit distance over the longer name.
 */
export function nameSimilarity(a: string, b: string): number {
  const wa = words(a);
  const wb = words(b);
  if (wa.length === 0 || wb.length === 0) return 0;
  const ja = wa.join('');
  const jb = wb.join('');
  if (ja === jb) return 1;
  const first = (x: string[], y: string[]) => x[0]!.length >= 3 && y.includes(x[0]!);
  if (first(wa, wb) || first(wb, wa)) return 0.9;
  return 1 - editDistance(ja, jb) / Math.max(ja.length, jb.length);
}

/** One typo in five letters still counts as the same name. */
const SAME_NAME = 0.8;

function yearsBetween(a: string, b: string): number {
  return (
    Math.abs(new Date(`${a}T00:00:00Z`).getTime() - new Date(`${b}T00:00:00Z`).getTime()) /
    (365.25 * 24 * 3600 * 1000)
  );
}

/**
 * Whether two birth dates can be the same person's: an unknown one can; two exact dates need the
 * same year; an estimated one (an age guessed at the desk) allows a few years either way, more
 * for older people (about 65 and 60 agree, 8 and 30 do not).
 */
export function agesAgree(a: PatientFields, b: PatientFields, today: Date): boolean {
  if (!a.birthDate || !b.birthDate) return true;
  if (!a.birthDateEstimated && !b.birthDateEstimated) {
    return a.birthDate.slice(0, 4) === b.birthDate.slice(0, 4);
  }
  const older = Math.max(
    yearsBetween(a.birthDate, isoDay(today)),
    yearsBetween(b.birthDate, isoDay(today)),
  );
  return yearsBetween(a.birthDate, b.birthDate) <= Math.max(3, 0.15 * older);
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function sexesAgree(a: PatientFields, b: PatientFields): boolean {
  const stated = (p: PatientFields) => p.sex === 'female' || p.sex === 'male';
  return !stated(a) || !stated(b) || a.sex === b.sex;
}

/**
 * Registered patients who may be the person being registered (or edited): names alike in either
 * order, sex and age that do not contradict. The village only ranks them: it is often left blank
 * or spelt differently. Best first; the patient being edited and deleted ones are left out.
 */
export function findDuplicates<P extends Patient>(
  candidate: PatientFields,
  patients: readonly P[],
  today: Date,
  excludeId?: string,
): DuplicateCandidate<P>[] {
  const found: DuplicateCandidate<P>[] = [];
  for (const patient of patients) {
    if (patient.deleted || patient.id === excludeId) continue;
    const straight = Math.min(
      nameSimilarity(candidate.givenName, patient.givenName),
      nameSimilarity(candidate.familyName, patient.familyName),
    );
    const swappedScore = Math.min(
      nameSimilarity(candidate.givenName, patient.familyName),
      nameSimilarity(candidate.familyName, patient.givenName),
    );
    const names = Math.max(straight, swappedScore);
    if (names < SAME_NAME) continue;
    if (!sexesAgree(candidate, patient) || !agesAgree(candidate, patient, today)) continue;
    const village = words(candidate.village).join(' ');
    const sameVillage = village !== '' && village === words(patient.village).join(' ');
    found.push({
      patient,
      score: names + (sameVillage ? 0.5 : 0) + (candidate.sex === patient.sex ? 0.1 : 0),
      swapped: swappedScore > straight,
    });
  }
  return found.sort((a, b) => b.score - a.score);
}
