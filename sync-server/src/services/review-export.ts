import type { TxRepositories } from '../repositories';
import type { ExportCursor, ExportRow } from '../repositories/review-reports.repository';
import type { RecordData } from './merge';
import { reviewTeams, type ParsedFilters } from './review-queue';
import { ageYears, diagnosisIdsOf, diagnosisPositive, imageOf, str } from './review-model';
import type { Scope } from './scope';
import { ApiError } from '../errors';

/*
 * Exports of the filtered queue (issue 11): CSV and a FHIR R4 Bundle, both streamed. Reports are
 * read in keyset pages of EXPORT_PAGE (shared_at, report_id) and each page is turned into text
 * when the response stream asks for more, so memory stays flat whatever the count: no query stays
 * open between pages (better-sqlite3 would hold the connection busy, a PostgreSQL cursor a pooled
 * connection), and nothing accumulates but the ids of patients and models already written to the
 * Bundle.
 */

/** Reports per page: a page's FHIR text is ~1 MB, the most the export holds at once. */
export const EXPORT_PAGE = 100;

export type { ExportRow };

interface Verdict {
  verdict: string;
  referenceOutcome: string | null;
}

/** One page of reports with the records they reference. */
export interface Page {
  rows: ExportRow[];
  records: Map<string, RecordData>;
  verdicts: Map<string, Verdict>;
}

const key = (table: string, id: string) => `${table}/${id}`;

async function exportTeams(
  repos: Pick<TxRepositories, 'teams'>,
  scope: Scope,
  teamId: string | undefined,
): Promise<string[]> {
  const teams = await reviewTeams(repos, scope);
  if (teamId === undefined) return teams;
  if (!teams.includes(teamId)) throw new ApiError(403, 'forbidden', 'You do not review this team');
  return [teamId];
}

/** The pages of the filtered queue, team by team in share order, read one at a time. */
export async function* exportPages(
  repos: Pick<TxRepositories, 'reviewReports' | 'teams'>,
  scope: Scope,
  f: ParsedFilters,
  pageSize = EXPORT_PAGE,
): AsyncGenerator<Page> {
  const teams = await exportTeams(repos, scope, f.teamId);
  // Team by team, each in share order along its (team_id, shared_at, report_id) index.
  for (const team of teams) {
    let after: ExportCursor | null = null;
    for (;;) {
      const rows = await repos.reviewReports.exportPage(team, f, after, pageSize);
      if (rows.length === 0) break;
      yield await loadPage(repos, rows);
      const last = rows[rows.length - 1]!;
      after = { sharedAt: last.sharedAt, reportId: last.reportId };
      if (rows.length < pageSize) break;
    }
  }
}

/** The page's reports, then what they reference, in two reads (plus the verdicts). */
async function loadPage(
  repos: Pick<TxRepositories, 'reviewReports'>,
  rows: ExportRow[],
): Promise<Page> {
  const records = new Map<string, RecordData>();
  const load = async (refs: { table: string; id: string }[]) => {
    for (const r of await repos.reviewReports.liveRecords(refs)) {
      records.set(key(r.table, r.id), JSON.parse(r.data) as RecordData);
    }
  };
  await load(rows.map((r) => ({ table: 'reports', id: r.reportId })));
  const refs: { table: string; id: string }[] = [];
  const diagnosisIds: string[] = [];
  for (const r of rows) {
    const report = records.get(key('reports', r.reportId));
    if (!report) continue;
    if (typeof report.patientId === 'string')
      refs.push({ table: 'patients', id: report.patientId });
    if (typeof report.encounterId === 'string') {
      refs.push({ table: 'encounters', id: report.encounterId });
    }
    for (const id of diagnosisIdsOf(report)) {
      refs.push({ table: 'diagnoses', id });
      diagnosisIds.push(id);
    }
  }
  const [, latest] = await Promise.all([
    load(refs),
    repos.reviewReports.latestVerdicts(diagnosisIds),
  ]);
  const verdicts = new Map<string, Verdict>();
  for (const v of latest) {
    verdicts.set(v.diagnosisId, { verdict: v.verdict, referenceOutcome: v.referenceOutcome });
  }
  return { rows, records, verdicts };
}

/** A stream that turns each page into text only when the consumer wants more. */
export function textStream(chunks: AsyncIterator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      },
      async cancel() {
        await chunks.return?.(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}

// ---------------------------------------------------------------------------------------------
// CSV

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. Text
 * that a spreadsheet would run as a formula (= + - @, tab, CR first) gets a leading apostrophe.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: readonly unknown[]) => `${cells.map(csvCell).join(',')}\r\n`;

const REPORT_COLUMNS = [
  'report_id',
  'team',
  'clinician',
  'patient_name',
  'sex',
  'age_years',
  'village',
  'revision',
  'state',
  'shared_at',
  'first_shared_at',
  'reviewed_at',
  'positive_finding',
  'abnormal_vitals',
  'disagreement',
  'encounter_date',
  'summary',
  'models',
] as const;

const DIAGNOSIS_COLUMNS = [
  'report_id',
  'team',
  'clinician',
  'patient_name',
  'sex',
  'age_years',
  'village',
  'revision',
  'state',
  'shared_at',
  'diagnosis_id',
  'model_id',
  'model_version',
  'finding_label',
  'probability',
  'threshold',
  'positive',
  'clinician_assessment',
  'supervisor_verdict',
  'reference_outcome',
] as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function* csvChunks(
  pages: AsyncIterable<Page> | Iterable<Page>,
  rowsPer: 'reports' | 'diagnoses',
  now: Date,
): AsyncGenerator<string> {
  // A byte order mark so that spreadsheets read the UTF-8 names right.
  yield '\uFEFF' + csvLine(rowsPer === 'reports' ? REPORT_COLUMNS : DIAGNOSIS_COLUMNS);
  for await (const page of pages) {
    let out = '';
    for (const r of page.rows) {
      const report = page.records.get(key('reports', r.reportId));
      if (!report) continue;
      const common = [
        r.reportId,
        r.teamName ?? r.teamId,
        r.clinicianName ?? r.clinicianId,
        r.patientName,
        r.sex,
        ageYears(r.birthDate, now),
        r.village,
        r.revision,
        r.state,
        iso(r.sharedAt),
      ];
      const diagnoses = diagnosisIdsOf(report)
        .map((id) => page.records.get(key('diagnoses', id)))
        .filter((d): d is RecordData => d !== undefined);
      if (rowsPer === 'reports') {
        const encounter = page.records.get(key('encounters', str(report.encounterId)));
        out += csvLine([
          ...common,
          iso(r.firstSharedAt),
          iso(r.reviewedAt),
          r.positive === 1,
          r.abnormal === 1,
          r.disagreement === 1,
          encounter ? str(encounter.date) : null,
          str(report.summary),
          diagnoses.map((d) => `${str(d.modelId)}@${str(d.modelVersion)}`).join(';'),
        ]);
        continue;
      }
      for (const d of diagnoses) {
        const label = str(d.positiveLabel);
        const outputs = (d.outputs ?? {}) as Record<string, unknown>;
        const verdict = page.verdicts.get(str(d.id));
        const assessment = (d.assessment as { verdict?: unknown } | null)?.verdict;
        out += csvLine([
          ...common,
          str(d.id),
          str(d.modelId),
          str(d.modelVersion),
          label,
          typeof outputs[label] === 'number' ? outputs[label] : null,
          typeof d.threshold === 'number' ? d.threshold : null,
          diagnosisPositive(d),
          typeof assessment === 'string' ? assessment : null,
          verdict?.verdict ?? null,
          verdict?.referenceOutcome ?? null,
        ]);
      }
    }
    yield out;
  }
}

// ---------------------------------------------------------------------------------------------
// FHIR R4

/** A FHIR id ([A-Za-z0-9-.]{1,64}) from one of ours. */
export const fhirId = (id: string) => id.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 64) || 'x';

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

/** LOINC code, display and UCUM unit of each vital the tablet records. */
const VITALS: Record<string, { loinc: string; display: string; unit: string; code: string }> = {
  temperatureC: { loinc: '8310-5', display: 'Body temperature', unit: '°C', code: 'Cel' },
  pulseBpm: { loinc: '8867-4', display: 'Heart rate', unit: 'beats/min', code: '/min' },
  respiratoryRate: {
    loinc: '9279-1',
    display: 'Respiratory rate',
    unit: 'breaths/min',
    code: '/min',
  },
  spo2: { loinc: '59408-5', display: 'Oxygen saturation by pulse oximetry', unit: '%', code: '%' },
  systolicBp: { loinc: '8480-6', display: 'Systolic blood pressure', unit: 'mmHg', code: 'mm[Hg]' },
  diastolicBp: {
    loinc: '8462-4',
    display: 'Diastolic blood pressure',
    unit: 'mmHg',
    code: 'mm[Hg]',
  },
  weightKg: { loinc: '29463-7', display: 'Body weight', unit: 'kg', code: 'kg' },
  heightCm: { loinc: '8302-2', display: 'Body height', unit: 'cm', code: 'cm' },
  muacMm: { loinc: '56072-2', display: 'Mid upper arm circumference', unit: 'mm', code: 'mm' },
};

const GENDER: Record<string, string> = {
  female: 'female',
  male: 'male',
  other: 'other',
  unknown: 'unknown',
};

const isDate = (s: unknown): s is string => typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s);

type Resource = Record<string, unknown> & { resourceType: string; id: string };

/** The resources of one report, in Bundle order; patients, visits and models only the first time. */
export function reportResources(
  page: Page,
  r: ExportRow,
  seen: { patients: Set<string>; devices: Set<string>; encounters: Set<string> },
): Resource[] {
  const report = page.records.get(key('reports', r.reportId));
  if (!report) return [];
  const out: Resource[] = [];
  const patient = page.records.get(key('patients', str(report.patientId)));
  const patientRef = { reference: `Patient/${fhirId(r.patientId)}` };
  if (patient && !seen.patients.has(r.patientId)) {
    seen.patients.add(r.patientId);
    // What a reviewer needs, no phone or identifiers.
    out.push({
      resourceType: 'Patient',
      id: fhirId(r.patientId),
      name: [
        {
          text: r.patientName,
          ...(str(patient.familyName) ? { family: str(patient.familyName) } : {}),
          ...(str(patient.givenName) ? { given: [str(patient.givenName)] } : {}),
        },
      ],
      gender: GENDER[str(patient.sex)] ?? 'unknown',
      ...(isDate(patient.birthDate) ? { birthDate: patient.birthDate } : {}),
      ...(str(patient.village) ? { address: [{ text: str(patient.village) }] } : {}),
    });
  }

  const encounter = page.records.get(key('encounters', str(report.encounterId)));
  const encounterRef = encounter ? { reference: `Encounter/${fhirId(str(encounter.id))}` } : null;
  const observationRefs: { reference: string }[] = [];
  if (encounter) {
    const date = isDate(encounter.date) ? encounter.date : undefined;
    const firstTime = !seen.encounters.has(str(encounter.id));
    seen.encounters.add(str(encounter.id));
    const emit = (resource: Resource) => {
      if (firstTime) out.push(resource);
    };
    emit({
      resourceType: 'Encounter',
      id: fhirId(str(encounter.id)),
      status: 'finished',
      class: {
        system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
        code: 'FLD',
        display: 'field',
      },
      subject: patientRef,
      ...(date ? { period: { start: date } } : {}),
      ...(str(encounter.complaint) ? { reasonCode: [{ text: str(encounter.complaint) }] } : {}),
    });
    const vitals = (encounter.vitals ?? {}) as Record<string, unknown>;
    for (const [field, v] of Object.entries(VITALS)) {
      const value = vitals[field];
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const id = fhirId(`${str(encounter.id)}-${field}`);
      observationRefs.push({ reference: `Observation/${id}` });
      emit({
        resourceType: 'Observation',
        id,
        status: 'final',
        category: [
          {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/observation-category',
                code: 'vital-signs',
              },
            ],
          },
        ],
        code: { coding: [{ system: LOINC, code: v.loinc, display: v.display }], text: v.display },
        subject: patientRef,
        encounter: encounterRef,
        ...(date ? { effectiveDateTime: date } : {}),
        valueQuantity: { value, unit: v.unit, system: UCUM, code: v.code },
      });
    }
  }

  const mediaRefs: { link: { reference: string } }[] = [];
  for (const id of diagnosisIdsOf(report)) {
    const d = page.records.get(key('diagnoses', id));
    if (!d) continue;
    const modelId = str(d.modelId);
    const modelVersion = str(d.modelVersion);
    const deviceId = fhirId(`model-${modelId}-${modelVersion}`);
    if (!seen.devices.has(deviceId)) {
      seen.devices.add(deviceId);
      out.push({
        resourceType: 'Device',
        id: deviceId,
        deviceName: [{ name: str(d.modelName, modelId), type: 'model-name' }],
        modelNumber: modelId,
        version: [{ value: modelVersion }],
      });
    }
    const label = str(d.positiveLabel);
    const outputs = (d.outputs ?? {}) as Record<string, unknown>;
    const p = outputs[label];
    const assessment = (d.assessment as { verdict?: unknown } | null)?.verdict;
    const verdict = page.verdicts.get(id);
    const notes = [
      `Model ${modelId} version ${modelVersion}; ${diagnosisPositive(d) ? 'positive' : 'negative'} at threshold ${String(d.threshold)}`,
      ...(typeof assessment === 'string' ? [`Clinician assessment: ${assessment}`] : []),
      ...(verdict
        ? [
            `Supervisor verdict: ${verdict.verdict}${verdict.referenceOutcome ? ` (${verdict.referenceOutcome})` : ''}`,
          ]
        : []),
    ];
    out.push({
      resourceType: 'RiskAssessment',
      id: fhirId(id),
      status: 'final',
      subject: patientRef,
      ...(encounterRef ? { encounter: encounterRef } : {}),
      performer: { reference: `Device/${deviceId}`, display: `${modelId} ${modelVersion}` },
      method: { text: `${str(d.modelName, modelId)} (${modelId} ${modelVersion})` },
      prediction: [
        {
          outcome: { text: label },
          ...(typeof p === 'number' && Number.isFinite(p) ? { probabilityDecimal: p } : {}),
        },
      ],
      note: notes.map((text) => ({ text })),
    });
    const sha = imageOf(d);
    if (sha) {
      const mediaId = fhirId(`${id}-image`);
      mediaRefs.push({ link: { reference: `Media/${mediaId}` } });
      out.push({
        resourceType: 'Media',
        id: mediaId,
        status: 'completed',
        subject: patientRef,
        ...(encounterRef ? { encounter: encounterRef } : {}),
        content: { url: `/api/blobs/${sha}`, title: `Input of ${modelId} ${modelVersion}` },
      });
    }
  }

  const conclusion = [str(report.summary), str(report.plan)].filter(Boolean).join('\n\n');
  out.push({
    resourceType: 'DiagnosticReport',
    id: fhirId(r.reportId),
    status: r.state === 'approved' ? 'final' : 'preliminary',
    code: { text: 'FieldDx field report' },
    subject: patientRef,
    ...(encounterRef ? { encounter: encounterRef } : {}),
    issued: new Date(r.sharedAt).toISOString(),
    ...(observationRefs.length > 0 ? { result: observationRefs } : {}),
    ...(mediaRefs.length > 0 ? { media: mediaRefs } : {}),
    ...(conclusion ? { conclusion } : {}),
  });
  return out;
}

export async function* fhirChunks(
  pages: AsyncIterable<Page> | Iterable<Page>,
  origin: string,
  now: Date,
): AsyncGenerator<string> {
  yield `{"resourceType":"Bundle","type":"collection","timestamp":${JSON.stringify(now.toISOString())},"entry":[`;
  const seen = {
    patients: new Set<string>(),
    devices: new Set<string>(),
    encounters: new Set<string>(),
  };
  let first = true;
  for await (const page of pages) {
    const parts: string[] = [];
    for (const r of page.rows) {
      for (const resource of reportResources(page, r, seen)) {
        parts.push(
          JSON.stringify({
            fullUrl: `${origin}/fhir/${resource.resourceType}/${resource.id}`,
            resource,
          }),
        );
      }
    }
    if (parts.length === 0) continue;
    yield (first ? '' : ',') + parts.join(',');
    first = false;
  }
  yield ']}';
}
