import { describe, expect, it } from 'vitest';
import { ApiError } from '$lib/api/errors';
import { exportTotal, fetchExport, reportCounter, type ExportProgress } from './export-download';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds `text` to a counter cut at `cut`, and returns the final count. */
function countSplit(kind: 'csv' | 'fhir', text: string, cut: number): number {
  const all = bytes(text);
  const count = reportCounter(kind);
  count(all.slice(0, cut));
  return count(all.slice(cut));
}

const CSV =
  '\uFEFFreport_id,summary\r\n' +
  'r1,"Cough\r\nfor 3 weeks, ""wet"""\r\n' +
  'r2,plain\r\n' +
  'r3,"two\nlines"\r\n';

const FHIR = JSON.stringify({
  resourceType: 'Bundle',
  entry: [
    { resource: { resourceType: 'Patient', id: 'p' } },
    { resource: { resourceType: 'DiagnosticReport', id: 'a', conclusion: 'x' } },
    // A clinician's text naming the marker is escaped, and not counted.
    {
      resource: {
        resourceType: 'DiagnosticReport',
        id: 'b',
        conclusion: '"resourceType":"DiagnosticReport"',
      },
    },
  ],
});

describe('export progress', () => {
  it('counts CSV rows after the header, line breaks inside quoted fields left out, wherever chunks end', () => {
    for (let cut = 0; cut <= bytes(CSV).length; cut++) expect(countSplit('csv', CSV, cut)).toBe(3);
  });

  it('counts a FHIR Bundle’s DiagnosticReports, wherever chunks end', () => {
    for (let cut = 0; cut <= bytes(FHIR).length; cut++)
      expect(countSplit('fhir', FHIR, cut)).toBe(2);
  });

  it('takes the total from the queue counts of the same filters', () => {
    const counts = { awaiting: 3, approved: 5, returned: 2 };
    expect(exportTotal(counts, undefined)).toBe(10);
    expect(exportTotal(counts, 'approved')).toBe(5);
  });

  it('reports what came and what is left as the file arrives, then gives the whole file', async () => {
    const chunks = [CSV.slice(0, 30), CSV.slice(30)];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(bytes(c));
        controller.close();
      },
    });
    const seen: ExportProgress[] = [];
    const file = await fetchExport(
      '/api/review/export.csv',
      'csv',
      3,
      (p) => seen.push(p),
      async () =>
        new Response(body, {
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': 'attachment; filename="fielddx-reports-2026-11-26.csv"',
          },
        }),
    );
    expect(seen.map((p) => [p.done, p.total])).toEqual([
      [0, 3],
      [0, 3],
      [3, 3],
    ]);
    expect(seen.at(-1)!.bytes).toBe(bytes(CSV).length);
    expect(file).toMatchObject({ fileName: 'fielddx-reports-2026-11-26.csv', reports: 3 });
    expect(new Uint8Array(await file.blob.arrayBuffer())).toEqual(bytes(CSV));
  });

  it('says why an export was refused, and when there is no connection', async () => {
    const refused = fetchExport(
      '/x',
      'csv',
      null,
      () => {},
      async () =>
        Response.json(
          { error: { code: 'forbidden', message: 'Not a supervisor' } },
          { status: 403 },
        ),
    );
    await expect(refused).rejects.toBeInstanceOf(ApiError);
    const offline = fetchExport(
      '/x',
      'csv',
      null,
      () => {},
      async () => {
        throw new TypeError('Failed to fetch');
      },
    );
    await expect(offline).rejects.toMatchObject({ code: 'network' });
  });
});
