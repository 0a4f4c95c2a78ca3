// bench:sync — the page half. Bundled by run.mjs with Vite (no SvelteKit) and loaded by a bare
// index.html served by the real sync server, so everything below runs the app's own modules
// ($lib/db, $lib/sync) on Chromium's IndexedDB and fetch. run.mjs drives it through `window.bench`.
import { uuidv7 } from 'uuidv7';
import { downloadAllAttachments, saveAttachment } from '$lib/db/attachments';
import { Vault } from '$lib/crypto/vault';
import { FieldDxDatabase, type OutboxRow, type PatientRow } from '$lib/db/database';
import { createPatient } from '$lib/db/patients';
import { newId, syncedFields } from '$lib/db/records';
import { patientLookupFields } from '$lib/domain/patient';
import { newMeta, type Author, type PatientFields } from '$lib/domain/records';
import type { PushRequest } from 'sync-server/protocol';
import { applyPullPage, applyPushResults, readAcked, readCursor } from '$lib/sync/apply';
import {
  deviceId,
  nextBatch,
  PULL_PAGE,
  PULL_PAGES_AHEAD,
  syncOnce,
  toWireMutation,
  type SyncProgress,
  type SyncSummary,
} from '$lib/sync/engine';
import { httpTransport, type SyncTransport } from '$lib/sync/transport';
import { seededRandom } from '../random.mjs';

// --- deterministic ~1 KB patients -----------------------------------------------------------------
const rand: () => number = seededRandom(0x5eed5eed);
/** The most records a pull stores in one transaction. */
const PULL_STORE_CHUNK = PULL_PAGE * PULL_PAGES_AHEAD;

const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');

const GIVEN = ['Aminata', 'Fatoumata', 'Mariam', 'Awa', 'Moussa', 'Amadou', 'Seydou', 'Oumar'];
const FAMILY = ['Traoré', 'Coulibaly', 'Diarra', 'Koné', 'Keïta', 'Diallo', 'Touré', 'Sangaré'];
const VILLAGES = ['Ségou', 'Pélengana', 'Markala', 'Sikasso', 'Koutiala', 'Kati', 'Djenné'];
/**
 * Identifier kinds of a long-followed patient, spelled out as clinics write them. The record's
 * bulk is in these labels, which are not indexed, so a ~1 KB patient keeps a realistic number of
 * search tokens (about a dozen: names, village, identifier values), which the device keeps in
 * the row for its in-memory search.
 */
const KINDS = [
  'Numéro de dossier du CSCom (centre de santé communautaire), registre de consultation curative',
  "Carte AMO — Assurance Maladie Obligatoire (CANAM), immatriculation de l'assuré principal",
  'Carnet de santé mère-enfant : numéro du registre CPN (consultation prénatale) du district',
  'Référence CSRéf (centre de santé de référence) — fiche de transfert et contre-référence',
  "Programme élargi de vaccination (PEV) : numéro d'ordre du registre de vaccination",
  'Prise en charge de la malnutrition (URENAS / URENI) : numéro de suivi nutritionnel',
];
/** Bytes of JSON of a synced patient record the generator aims for. */
export const TARGET_RECORD_BYTES = 1024;

/** A patient's fields whose synced record (with its meta fields) is about 1 KB of JSON. */
function patientFields(i: number, meta: object): PatientFields {
  const district = pick(['SGU', 'SKS', 'KKR', 'MPT']);
  const fields: PatientFields = {
    givenName: rand() < 0.2 ? `${pick(GIVEN)} ${pick(GIVEN)}` : pick(GIVEN),
    familyName: pick(FAMILY),
    sex: rand() < 0.52 ? 'female' : 'male',
    birthDate: `19${50 + Math.floor(rand() * 50)}-0${1 + Math.floor(rand() * 9)}-1${Math.floor(rand() * 10)}`,
    birthDateEstimated: rand() < 0.4,
    village: pick(VILLAGES),
    phone: `+223 ${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`,
    identifiers: [{ kind: KINDS[0]!, value: `${district}-${String(i).padStart(6, '0')}` }],
  };
  // Further identifiers (one token or two each) until the record nears the target size; the
  // last label is cut to land on it.
  for (let k = 1; k < KINDS.length; k++) {
    const room = TARGET_RECORD_BYTES - JSON.stringify({ ...meta, ...fields }).length;
    if (room < 40) break;
    const value = digits(8);
    const kind = pick(KINDS.slice(1));
    const cost = JSON.stringify({ kind, value }).length + 1;
    fields.identifiers.push({
      kind: cost <= room ? kind : kind.slice(0, Math.max(8, kind.length - (cost - room))),
      value,
    });
  }
  return fields;
}

/** The patient row and its outbox row exactly as createPatient → writeRecord leave them. */
function patientRows(i: number, author: Author, now: Date): { row: PatientRow; out: OutboxRow } {
  const meta = newMeta(newId(), author, now);
  const fields = patientFields(i, meta);
  const row: PatientRow = {
    ...meta,
    ...fields,
    ...patientLookupFields(fields),
    lastVisitAt: now.toISOString(),
  };
  const out: OutboxRow = {
    mutationId: uuidv7(),
    table: 'patients',
    recordId: row.id,
    op: 'put',
    baseVersion: row.version,
    data: syncedFields(row),
    createdAt: new Date().toISOString(),
  };
  return { row, out };
}

// --- instrumented transport ---------------------------------------------------------------------
interface Call {
  kind: 'push' | 'pull' | 'putBlob' | 'getBlob';
  ms: number;
}
let calls: Call[] = [];

/** Bytes each way on the wire as the page sees them (bench:field-link). */
const wire = { up: 0, down: 0, requests: 0 };
const utf8Length = (text: string) => new TextEncoder().encode(text).length;
/** fetch, counting request bodies (as sent: gzip-encoded when so) and response bodies (encoded). */
const countingFetch: typeof fetch = async (input, init) => {
  const body = init?.body;
  if (typeof body === 'string') wire.up += utf8Length(body);
  else if (body instanceof Blob) wire.up += body.size;
  else if (ArrayBuffer.isView(body)) wire.up += body.byteLength;
  wire.requests++;
  const res = await fetch(input, init);
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(length)) wire.down += length;
  else {
    // Chunked (a compressed pull page): its encoded size from Resource Timing, once read.
    const url = new URL(String(input), location.href).href;
    const copy = res.clone();
    void copy.arrayBuffer().then(() => {
      const entries = performance.getEntriesByName(url) as PerformanceResourceTiming[];
      wire.down += entries[entries.length - 1]?.encodedBodySize ?? 0;
    });
  }
  return res;
};
let compressPushes = true;

/** httpTransport(), unchanged, with each call's wall time noted (fetch + server + JSON parse). */
function timedTransport(): SyncTransport {
  const inner = httpTransport('', countingFetch, { compress: compressPushes });
  const timed =
    <A extends unknown[], R>(kind: Call['kind'], fn: (...a: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await fn(...args);
      } finally {
        calls.push({ kind, ms: performance.now() - t0 });
      }
    };
  return {
    prepare: inner.prepare,
    push: timed('push', inner.push),
    pull: timed('pull', inner.pull),
    putBlob: timed('putBlob', inner.putBlob),
    getBlob: timed('getBlob', inner.getBlob),
  };
}
let transport = timedTransport();

/** bench:field-link: pushes gzip-encoded or plain, and the bytes counted so far (then reset). */
function setCompress(on: boolean) {
  compressPushes = on;
  transport = timedTransport();
}
function takeWire() {
  const out = { ...wire };
  wire.up = wire.down = wire.requests = 0;
  return out;
}
/** syncOnce that reports a failure instead of throwing (a cut link). */
async function trySync() {
  const t0 = performance.now();
  try {
    const summary = await syncOnce(current(), transport);
    return { ok: true, ms: r1(performance.now() - t0), summary: { ...summary, rejected: 0 } };
  } catch (error) {
    return { ok: false, ms: r1(performance.now() - t0), error: String(error) };
  }
}
/** Every synced patient's and attachment's version, and the outbox size. */
async function versions() {
  const d = current();
  const patients = (await d.patients.toArray()).map((p) => p.version);
  const attachments = (await d.attachments.toArray()).map((a) => a.version);
  return { patients, attachments, outbox: await d.outbox.count() };
}
performance.setResourceTimingBufferSize(100_000);

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const r1 = (x: number) => Math.round(x * 10) / 10;

/** Where the time of the calls since `mark` went, from the wrapper and Resource Timing. */
function breakdown() {
  const resources = performance
    .getEntriesByType('resource')
    .filter((e): e is PerformanceResourceTiming => /\/api\/(sync|blobs)\//.test(e.name));
  const byKind = (re: RegExp) => resources.filter((e) => re.test(e.name));
  const net = (list: PerformanceResourceTiming[]) => ({
    requests: list.length,
    /** Request sent → first byte of the answer: the server's work (and loopback). */
    serverMs: r1(sum(list.map((e) => e.responseStart - e.requestStart))),
    /** First → last byte of the answer. */
    downloadMs: r1(sum(list.map((e) => e.responseEnd - e.responseStart))),
    /** fetch() called → request sent (queueing, connection, request body). */
    sendMs: r1(sum(list.map((e) => e.requestStart - e.startTime))),
    /** Whole fetch as Resource Timing sees it. */
    fetchMs: r1(sum(list.map((e) => e.responseEnd - e.startTime))),
    wireBytes: sum(list.map((e) => e.transferSize)),
    bodyBytes: sum(list.map((e) => e.decodedBodySize)),
  });
  const kinds = ['push', 'pull', 'putBlob', 'getBlob'] as const;
  const transportMs = Object.fromEntries(
    kinds.map((k) => [k, r1(sum(calls.filter((c) => c.kind === k).map((c) => c.ms)))]),
  ) as Record<(typeof kinds)[number], number>;
  return {
    transportMs,
    push: net(byKind(/\/api\/sync\/push/)),
    pull: net(byKind(/\/api\/sync\/pull/)),
    blobs: net(byKind(/\/api\/blobs\//)),
  };
}

function resetMarks() {
  calls = [];
  performance.clearResourceTimings();
}

// --- the page API -------------------------------------------------------------------------------
// Encryption at rest as in the app (issue 15): every database is opened with an unlocked vault, so
// each record, outbox row and image goes through the sealing middleware. `?plain` in the page's
// URL opens them without it, for comparison.
const vault = new Vault();
vault.unlock(crypto.getRandomValues(new Uint8Array(32)));
const keys = new URLSearchParams(location.search).has('plain') ? undefined : vault;
let db: FieldDxDatabase | undefined;
const current = () => {
  if (!db) throw new Error('bench: call open(name) first');
  return db;
};

async function open(name: string) {
  db?.close();
  db = new FieldDxDatabase(name, keys);
  await db.open();
  return name;
}

async function drop() {
  if (db) await db.delete();
  db = undefined;
}

/**
 * n new patients with their outbox rows, in transactions of 500 (bulk: seeding is not measured).
 * The first is made with the app's createPatient; the rest are shaped the same (checked).
 */
async function seedPatients(n: number, author: Author, from = 0) {
  const d = current();
  const t0 = performance.now();
  const now = new Date();
  const first = await createPatient(d, patientFields(from, newMeta('x', author, now)), author, now);
  const reference = await d.outbox.where('[table+recordId]').equals(['patients', first.id]).first();
  const probe = patientRows(from, author, now);
  const sameShape =
    JSON.stringify(Object.keys(first).sort()) === JSON.stringify(Object.keys(probe.row).sort()) &&
    JSON.stringify(
      Object.keys(reference ?? {})
        .filter((k) => k !== 'seq')
        .sort(),
    ) === JSON.stringify(Object.keys(probe.out).sort());
  if (!sameShape) throw new Error('bench: seeded rows differ in shape from createPatient');
  const utf8 = new TextEncoder();
  let bytes = 0;
  let tokens = 0;
  for (let start = 1; start < n; start += 500) {
    const rows: PatientRow[] = [];
    const outs: OutboxRow[] = [];
    for (let i = start; i < Math.min(n, start + 500); i++) {
      const { row, out } = patientRows(from + i, author, now);
      bytes += utf8.encode(JSON.stringify(out.data)).length;
      tokens += row.searchTokens.length;
      rows.push(row);
      outs.push(out);
    }
    await d.transaction('rw', d.patients, d.outbox, async () => {
      await d.patients.bulkAdd(rows);
      await d.outbox.bulkAdd(outs);
    });
  }
  return {
    ms: r1(performance.now() - t0),
    avgRecordBytes: Math.round(bytes / Math.max(1, n - 1)),
    avgSearchTokens: r1(tokens / Math.max(1, n - 1)),
    outbox: await d.outbox.count(),
  };
}

/** One patient and n attachments of `bytes` random bytes each (saveAttachment: hashed, stored). */
async function seedAttachments(n: number, bytes: number, author: Author) {
  const d = current();
  const t0 = performance.now();
  const patient = await createPatient(
    d,
    patientFields(0, newMeta('x', author, new Date())),
    author,
  );
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(bytes);
    for (let off = 0; off < bytes; off += 65536)
      crypto.getRandomValues(data.subarray(off, Math.min(bytes, off + 65536)));
    const blob = new Blob([data], { type: 'image/jpeg' });
    await saveAttachment(d, patient.id, blob, { width: 640, height: 480 }, author);
  }
  return { ms: r1(performance.now() - t0), outbox: await d.outbox.count() };
}

/** syncOnce with the real HTTP transport; push and pull phases timed from its progress events. */
async function sync() {
  const d = current();
  resetMarks();
  let lastUpload: number | null = null;
  let firstDownload: number | null = null;
  const t0 = performance.now();
  const summary: SyncSummary = await syncOnce(d, transport, (p: SyncProgress) => {
    if (p.phase === 'upload') lastUpload = performance.now();
    else firstDownload ??= performance.now();
  });
  const t1 = performance.now();
  const pushEnd = lastUpload ?? t0;
  return {
    ms: r1(t1 - t0),
    /** Start → last push batch acknowledged and applied (blob uploads included). */
    pushMs: r1(pushEnd - t0),
    /** Last push batch → done (the pull pages). */
    pullMs: r1(t1 - pushEnd),
    firstPullPageMs: firstDownload === null ? null : r1(firstDownload - pushEnd),
    summary: { ...summary, rejected: summary.rejected.length },
    ...breakdown(),
  };
}

/** downloadAllAttachments through the real transport. */
async function downloadAll() {
  const d = current();
  resetMarks();
  const t0 = performance.now();
  const count = await downloadAllAttachments(d, (sha) => transport.getBlob(sha));
  return { ms: r1(performance.now() - t0), count, ...breakdown() };
}

async function counts() {
  const d = current();
  return {
    patients: await d.patients.count(),
    attachments: await d.attachments.count(),
    blobs: await d.blobs.count(),
    outbox: await d.outbox.count(),
  };
}

/**
 * Fills the server without IndexedDB: n new patients (same generator) POSTed straight to
 * /api/sync/push in batches of 500 from this page, as one device. For the server-memory test.
 */
async function pushDirect(n: number, author: Author) {
  const t0 = performance.now();
  const deviceId = `bench-direct-${crypto.randomUUID().slice(0, 8)}`;
  const now = new Date();
  let applied = 0;
  for (let start = 0; start < n; start += 500) {
    const mutations = [];
    for (let i = start; i < Math.min(n, start + 500); i++) {
      const { out } = patientRows(i, author, now);
      mutations.push({
        mutationId: out.mutationId,
        table: out.table,
        id: out.recordId,
        baseVersion: 0,
        op: 'put',
        data: out.data,
      });
    }
    const res = await fetch('/api/sync/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId, mutations }),
    });
    if (!res.ok) throw new Error(`push ${start}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { results: { status: string }[] };
    applied += body.results.filter((r) => r.status === 'applied').length;
  }
  return { ms: r1(performance.now() - t0), applied };
}

/** Cost of the JSON work the engine does around one pull page of `n` records, for the profile. */
async function jsonCost(n: number, author: Author) {
  const changes = [];
  for (let i = 0; i < n; i++) {
    const { out } = patientRows(i, author, new Date());
    changes.push({
      table: 'patients',
      id: out.recordId,
      version: 1,
      seq: i + 1,
      deleted: false,
      record: out.data,
    });
  }
  const text = JSON.stringify({ changes, cursor: n, hasMore: false, reset: false });
  const t0 = performance.now();
  const parsed = JSON.parse(text) as { changes: unknown[] };
  const t1 = performance.now();
  JSON.stringify(parsed.changes);
  const t2 = performance.now();
  return { bytes: text.length, parseMs: r1(t1 - t0), stringifyMs: r1(t2 - t1) };
}

// --- profile: syncOnce taken apart ----------------------------------------------------------------
// The same steps syncOnce runs (its exported pieces, in its order), each timed, one after another:
// the pull here stores page by page without downloading ahead, to show each side's cost alone.

const lap = () => {
  let t = performance.now();
  return () => {
    const now = performance.now();
    const d = now - t;
    t = now;
    return d;
  };
};
const totals = (rows: Record<string, number>[]) => {
  const out: Record<string, number> = {};
  for (const row of rows) for (const [k, v] of Object.entries(row)) out[k] = (out[k] ?? 0) + v;
  for (const k of Object.keys(out)) out[k] = r1(out[k]!);
  return out;
};

/** syncOnce's push loop, step by step (no attachments in the profile). */
async function profilePush() {
  const d = current();
  const device = await deviceId(d);
  const steps: Record<string, number>[] = [];
  await d.outbox.filter((row) => !row.rejected).count();
  for (let guard = 0; guard < 10_000; guard++) {
    const t = lap();
    const batch = await nextBatch(d);
    const nextBatchMs = t();
    if (batch.length === 0) break;
    const request: PushRequest = { deviceId: device, mutations: batch.map(toWireMutation) };
    const body = JSON.stringify(request);
    const stringifyMs = t();
    void body;
    const response = await transport.push(request);
    const transportMs = t();
    await applyPushResults(d, batch, response.results, response.cursorAdvance);
    const applyMs = t();
    steps.push({ nextBatchMs, stringifyMs, transportMs, applyMs, batches: 1 });
  }
  return totals(steps);
}

/** syncOnce's pull loop, step by step. */
async function profilePull() {
  const d = current();
  const device = await deviceId(d);
  const steps: Record<string, number>[] = [];
  let cursor = await readCursor(d);
  const acked = await readAcked(d);
  for (let guard = 0; guard < 10_000; guard++) {
    const t = lap();
    const page = await transport.pull(device, cursor, PULL_PAGE, acked);
    const transportMs = t();
    await applyPullPage(d, page.changes, page.cursor);
    const applyMs = t();
    JSON.stringify(page.changes);
    const stringifyMs = t();
    steps.push({ transportMs, applyMs, stringifyMs, pages: 1, records: page.changes.length });
    cursor = page.cursor;
    if (!page.hasMore) break;
  }
  return totals(steps);
}

/** Latency of one IndexedDB request: n sequential gets vs one bulkGet, in one transaction. */
async function requestLatency(n: number) {
  const d = current();
  const ids = (await d.patients.limit(n).primaryKeys()) as string[];
  let t = performance.now();
  await d.transaction('r', d.patients, async () => {
    for (const id of ids) await d.patients.get(id);
  });
  const sequentialMs = performance.now() - t;
  t = performance.now();
  await d.transaction('r', d.patients, () => d.patients.bulkGet(ids));
  const bulkMs = performance.now() - t;
  return {
    n: ids.length,
    sequentialMs: r1(sequentialMs),
    perRequestMs: r1((sequentialMs / Math.max(1, ids.length)) * 100) / 100,
    bulkGetMs: r1(bulkMs),
  };
}

/**
 * The floor for storing n pulled patients: bulkPut in transactions of PULL_STORE_CHUNK (what a pull
 * stores at once) on fresh databases, (a) as the app stores them, (b) as plain values in a table
 * without secondary indexes, (c) ten to a row, (d) rows of nothing but a key (rawKeyOnly). No
 * sync code involved.
 */
async function writeFloor(n: number, author: Author) {
  const rows = Array.from({ length: n }, (_, i) => patientRows(i, author, new Date()).row);
  const time = async (
    name: string,
    write: (d: FieldDxDatabase, chunk: PatientRow[]) => Promise<unknown>,
  ) => {
    const d = new FieldDxDatabase(name, keys);
    await d.open();
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += PULL_STORE_CHUNK) {
      const chunk = rows.slice(i, i + PULL_STORE_CHUNK);
      await d.transaction('rw', [d.patients, d.settings], () => write(d, chunk));
    }
    const ms = performance.now() - t0;
    await d.delete();
    return r1(ms);
  };
  // Interleaved twice, the better of two: the machine's load varies.
  const best: Record<string, number> = {};
  for (let round = 0; round < 2; round++) {
    const a = await time(`floor-a${round}`, (d, c) => d.patients.bulkPut(c));
    const b = await time(`floor-b${round}`, (d, c) =>
      d.settings.bulkPut(c.map((r) => ({ key: r.id, value: r }))),
    );
    // The same records ten to a row: what storing several records per IndexedDB row would save.
    const c = await time(`floor-c${round}`, (d, chunk) => {
      const packed = [];
      for (let i = 0; i < chunk.length; i += 10)
        packed.push({ key: chunk[i]!.id, value: chunk.slice(i, i + 10) });
      return d.settings.bulkPut(packed);
    });
    const d = await rawKeyOnly(`floor-d${round}`, rows.length);
    for (const [k, v] of Object.entries({
      patientsMs: a,
      unindexedMs: b,
      tenPerRowMs: c,
      rawKeyOnlyMs: d,
    }))
      best[k] = Math.min(best[k] ?? Infinity, v);
  }
  return { n, ...best };
}

/**
 * IndexedDB's own cost per row: n rows holding only their key, put without Dexie or encryption
 * into a store without indexes, in transactions of PULL_STORE_CHUNK. What a pull of n records
 * costs at the least while each record is a row of its own.
 */
async function rawKeyOnly(name: string, n: number): Promise<number> {
  const idb = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('rows', { keyPath: 'id' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const ids = Array.from({ length: n }, () => uuidv7());
  const t0 = performance.now();
  for (let i = 0; i < n; i += PULL_STORE_CHUNK) {
    await new Promise<void>((resolve, reject) => {
      const tx = idb.transaction('rows', 'readwrite');
      const store = tx.objectStore('rows');
      for (const id of ids.slice(i, i + PULL_STORE_CHUNK)) store.put({ id });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
  const ms = performance.now() - t0;
  idb.close();
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = resolve;
  });
  return r1(ms);
}

const bench = {
  setCompress,
  takeWire,
  trySync,
  versions,
  writeFloor,
  profilePush,
  profilePull,
  requestLatency,
  open,
  drop,
  seedPatients,
  seedAttachments,
  sync,
  downloadAll,
  counts,
  pushDirect,
  jsonCost,
};
declare global {
  interface Window {
    bench: typeof bench;
  }
}
window.bench = bench;
document.title = 'bench ready';
