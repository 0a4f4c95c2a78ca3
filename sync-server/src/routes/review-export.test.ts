import { Fhir } from 'fhir';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { MutationResult } from '../protocol';
import { csvCell, csvChunks, exportPages, textStream } from '../services/review-export';
import { scopeOf } from '../services/scope';
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
import { errorOf } from '../test-utils';

/*
 * Exports: CSV escaping (unit and through the route, read back with an RFC 4180 parser), FHIR R4
 * validated with the `fhir` package's R4 definitions (shipped in the package, no network), and
 * paging over more reports than one page.
 */

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}
type World = Awaited<ReturnType<typeof setup>>;

const applied = (r: MutationResult) =>
  expect(r, JSON.stringify(r)).toMatchObject({ status: 'applied' });

/** RFC 4180, enough for the tests: quoted fields with doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

async function shareCase(
  w: World,
  by: SyncClient,
  fields: { givenName?: string; status?: string; image?: string } = {},
) {
  const p = patient(w.teamA, {
    givenName: fields.givenName ?? 'Amina',
    identifiers: [{ kind: 'National ID', value: 'NID-SECRET' }],
    phone: '+254700000000',
  });
  const e = {
    id: uid('e'),
    teamId: w.teamA,
    version: 0,
    updatedAt: '2026-01-15T10:00:00.000Z',
    updatedBy: 'x',
    deleted: false,
    patientId: p.id,
    date: '2026-01-15',
    complaint: 'Cough',
    vitals: { temperatureC: 38.2, spo2: 91, pulseBpm: null },
    symptoms: [],
    notes: '',
  };
  const d = diagnosis(w.teamA, p.id, {
    encounterId: e.id,
    modelId: 'pneumonia-cxr',
    modelName: 'Pneumonia on a chest X-ray',
    outputs: { normal: 0.2, pneumonia: 0.8 },
    positiveLabel: 'pneumonia',
    threshold: 0.33,
    assessment: { verdict: 'agree', note: '', at: '2026-01-15T10:00:00Z', by: 'x' },
    ...(fields.image
      ? { inputs: { kind: 'image', attachmentId: uid('a'), sha256: fields.image } }
      : {}),
  });
  const r = report(w.teamA, p.id, {
    encounterId: e.id,
    diagnosisIds: [d.id],
    summary: 'Cough, "fast" breathing,\nfever',
    status: fields.status ?? 'shared',
  });
  (
    await by.push([
      mutation('patients', p),
      mutation('encounters', e),
      mutation('diagnoses', d),
      mutation('reports', r),
    ])
  ).forEach(applied);
  return { p, e, d, r };
}

describe('csvCell', () => {
  it('quotes what needs quoting and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\r')).toBe('"cr\r"');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell(-1.5)).toBe('-1.5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(Number.NaN)).toBe('');
  });
});

describe('textStream', () => {
  it('takes the next chunk only when the reader wants more, and closes its source on cancel', async () => {
    let made = 0;
    let closed = false;
    async function* source() {
      try {
        for (let i = 0; i < 100; i++) {
          made++;
          yield `chunk ${i};`;
        }
      } finally {
        closed = true;
      }
    }
    const reader = textStream(source()).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('chunk 0;');
    await new Promise((resolve) => setTimeout(resolve, 20));
    // One chunk queued ahead at most (highWaterMark 1), however long the reader waits.
    expect(made).toBeLessThanOrEqual(2);
    await reader.cancel();
    expect(closed).toBe(true);
  });
});

describe('GET /api/review/export.csv', () => {
  it('streams one row per shared report, or per diagnosis, escaped', async () => {
    const w = await setup();
    const a = await shareCase(w, w.alice, { givenName: 'Zoë, "Zee"' });
    await shareCase(w, w.alice, { status: 'draft' });
    applied(
      await w.sam.pushOne(
        mutation(
          'reviews',
          review(w.teamA, a.r.id, {
            verdicts: [
              { diagnosisId: a.d.id, verdict: 'right', referenceOutcome: 'Confirmed, by X-ray' },
            ],
          }),
        ),
      ),
    );
    const res = await w.sam.client.get('/api/review/export.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="fielddx-reports-/,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 byte order mark
    const text = new TextDecoder().decode(bytes); // (drops the mark)
    const rows = parseCsv(text);
    expect(rows).toHaveLength(2);
    const [header, row] = rows as [string[], string[]];
    const cell = (name: string) => row[header.indexOf(name)];
    expect(cell('report_id')).toBe(a.r.id);
    expect(cell('patient_name')).toBe('Zoë, "Zee" Okafor');
    expect(cell('summary')).toBe('Cough, "fast" breathing,\nfever');
    expect(cell('state')).toBe('approved');
    expect(cell('abnormal_vitals')).toBe('true');
    expect(cell('models')).toBe('pneumonia-cxr@1.0.0');
    expect(text).not.toContain('NID-SECRET');

    const perDiagnosis = parseCsv(
      await (await w.sam.client.get('/api/review/export.csv?rows=diagnoses')).text(),
    );
    const [h, d] = perDiagnosis as [string[], string[]];
    expect(perDiagnosis).toHaveLength(2);
    expect(d[h.indexOf('diagnosis_id')]).toBe(a.d.id);
    expect(d[h.indexOf('probability')]).toBe('0.8');
    expect(d[h.indexOf('positive')]).toBe('true');
    expect(d[h.indexOf('supervisor_verdict')]).toBe('right');
    expect(d[h.indexOf('reference_outcome')]).toBe('Confirmed, by X-ray');

    const clinician = await w.alice.client.get('/api/review/export.csv');
    expect(clinician.status).toBe(403);
    const bad = await w.sam.client.get('/api/review/export.csv?rows=all');
    expect((await errorOf(bad)).message).toBe("rows: must be 'reports' or 'diagnoses'");
  });

  it('walks every page of the filtered reports once, in share order', async () => {
    const w = await setup();
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      made.push((await shareCase(w, i % 2 ? w.bob : w.alice)).r.id);
      w.clock.advance(1000);
    }
    const scope = await scopeOf(w.repos, w.sam.userId);
    const pages = await collect(exportPages(w.repos, scope, {}, 3));
    expect(pages.map((p) => p.rows.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.rows.map((r) => r.reportId))).toEqual(made);
    const csv = (
      await collect(
        csvChunks(
          exportPages(w.repos, scope, { clinicianId: w.bob.userId }, 2),
          'reports',
          new Date(),
        ),
      )
    ).join('');
    expect(parseCsv(csv.slice(1))).toHaveLength(1 + 3);

    // A page is read when the consumer asks for it, not before.
    let reads = 0;
    const counting = {
      ...w.repos,
      reviewReports: new Proxy(w.repos.reviewReports, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== 'exportPage' || typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            reads++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }),
    };
    const lazy = exportPages(counting, scope, {}, 3);
    expect(reads).toBe(0);
    expect((await lazy.next()).value?.rows).toHaveLength(3);
    expect(reads).toBe(1);
    await lazy.return(undefined);
    expect(reads).toBe(1);
  });
});

describe('GET /api/review/export.fhir', () => {
  it('streams a FHIR R4 Bundle that the R4 validator accepts', async () => {
    const w = await setup();
    const a = await shareCase(w, w.alice, { image: 'ab'.repeat(32) });
    await shareCase(w, w.bob);
    applied(await w.sam.pushOne(mutation('reviews', review(w.teamA, a.r.id))));

    const res = await w.sam.client.get('/api/review/export.fhir');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    const text = await res.text();
    expect(text).not.toContain('NID-SECRET');
    expect(text).not.toContain('+254700000000');
    const bundle = JSON.parse(text) as {
      resourceType: string;
      entry: { fullUrl: string; resource: Record<string, unknown> & { resourceType: string } }[];
    };
    const result = new Fhir().validate(bundle, { errorOnUnexpected: true });
    expect(result.messages.filter((m) => m.severity === 'error')).toEqual([]);
    expect(result.valid).toBe(true);

    const types = bundle.entry.map((e) => e.resource.resourceType);
    expect(types.filter((t) => t === 'Patient')).toHaveLength(2);
    expect(types.filter((t) => t === 'Encounter')).toHaveLength(2);
    expect(types.filter((t) => t === 'Observation')).toHaveLength(4); // temperature + SpO2, twice
    expect(types.filter((t) => t === 'RiskAssessment')).toHaveLength(2);
    expect(types.filter((t) => t === 'Device')).toHaveLength(1); // one model version
    expect(types.filter((t) => t === 'Media')).toHaveLength(1);
    expect(types.filter((t) => t === 'DiagnosticReport')).toHaveLength(2);
    const approved = bundle.entry.find((e) => e.resource.id === a.r.id)!.resource;
    expect(approved).toMatchObject({ resourceType: 'DiagnosticReport', status: 'final' });
    const risk = bundle.entry.find((e) => e.resource.id === a.d.id)!.resource;
    expect(risk).toMatchObject({
      method: { text: 'Pneumonia on a chest X-ray (pneumonia-cxr 1.0.0)' },
      prediction: [{ outcome: { text: 'pneumonia' }, probabilityDecimal: 0.8 }],
    });

    // The validator is not a rubber stamp: a wrong code and an unknown field are errors.
    const broken = structuredClone(bundle);
    broken.entry[0]!.resource.gender = 'woman';
    broken.entry[0]!.resource.nationalId = 'x';
    expect(new Fhir().validate(broken, { errorOnUnexpected: true }).valid).toBe(false);
  });

  it('exports an empty filter as an empty valid Bundle', async () => {
    const w = await setup();
    const res = await w.sam.client.get('/api/review/export.fhir?state=returned');
    const bundle = (await res.json()) as { entry: unknown[] };
    expect(bundle.entry).toEqual([]);
    expect(new Fhir().validate(bundle, { errorOnUnexpected: true }).valid).toBe(true);
  });
});
