import type { QueueFilters, StateCounts } from 'sync-server/protocol';
import { readResponse } from '$lib/api/errors';

export type ExportKind = 'csv' | 'fhir';

/**
 * How many reports an export of the queue as filtered holds: the queue's counts per state are for
 * the same filters with the state left out, so the state filter picks one of them.
 */
export function exportTotal(counts: StateCounts, state: QueueFilters['state']): number {
  if (state === 'awaiting' || state === 'approved' || state === 'returned') return counts[state];
  return counts.awaiting + counts.approved + counts.returned;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
/** Once per report in a FHIR export; a quote inside a text would be escaped, so only structure matches. */
const FHIR_REPORT = '"resourceType":"DiagnosticReport"';

/**
 * Counts the reports of an export as its bytes arrive, whatever the chunks' boundaries: CSV lines
 * after the header (a line break inside a quoted field, such as a summary's, is not a new line;
 * a doubled quote toggles twice), or a FHIR Bundle's DiagnosticReports. Returns the count so far.
 */
export function reportCounter(kind: ExportKind): (chunk: Uint8Array) => number {
  if (kind === 'csv') {
    let quoted = false;
    let lines = 0;
    return (chunk) => {
      for (const byte of chunk) {
        if (byte === QUOTE) quoted = !quoted;
        else if (byte === NEWLINE && !quoted) lines++;
      }
      return Math.max(0, lines - 1);
    };
  }
  const decoder = new TextDecoder();
  let tail = '';
  let found = 0;
  return (chunk) => {
    const text = tail + decoder.decode(chunk, { stream: true });
    for (let at = text.indexOf(FHIR_REPORT); at !== -1; at = text.indexOf(FHIR_REPORT, at + 1)) {
      found++;
    }
    // Keep what could be the start of a match cut by the chunk's end (shorter than a match, so
    // never counted twice).
    tail = text.slice(-(FHIR_REPORT.length - 1));
    return found;
  };
}

export interface ExportProgress {
  /** Reports received so far. */
  done: number;
  /** Reports in all (null: not known). */
  total: number | null;
  bytes: number;
}

/** The file name the server gives in Content-Disposition, or a plain one. */
function fileNameOf(res: Response, kind: ExportKind): string {
  const match = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  return match?.[1] ?? (kind === 'csv' ? 'fielddx-reports.csv' : 'fielddx-reports.fhir.json');
}

/**
 * Downloads an export while counting its reports, so the screen can say "1,200 of 10,000
 * reports". The file is kept in memory until it is whole, then handed to the browser to save.
 */
export async function fetchExport(
  url: string,
  kind: ExportKind,
  total: number | null,
  onProgress: (progress: ExportProgress) => void,
  fetchImpl: typeof fetch = (...a) => fetch(...a),
): Promise<{ blob: Blob; fileName: string; reports: number }> {
  let res: Response;
  try {
    res = await fetchImpl(url);
  } catch (error) {
    // No connection: readResponse's ApiError, as for the other requests.
    return readResponse(Promise.reject(error));
  }
  if (!res.ok || !res.body) await readResponse(Promise.resolve(res));
  const count = reportCounter(kind);
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let done = 0;
  let bytes = 0;
  onProgress({ done, total, bytes });
  const reader = res.body!.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    parts.push(r.value);
    bytes += r.value.byteLength;
    done = count(r.value);
    // Reports written after the counts were read may make more than announced.
    onProgress({ done, total: total === null ? null : Math.max(total, done), bytes });
  }
  const type = res.headers.get('content-type') ?? 'application/octet-stream';
  return { blob: new Blob(parts, { type }), fileName: fileNameOf(res, kind), reports: done };
}

/** Hands a whole file to the browser's own download. */
export function saveFile(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
