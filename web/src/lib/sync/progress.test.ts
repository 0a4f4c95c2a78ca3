import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FieldDxDatabase } from '$lib/db/database';
import { createPatient } from '$lib/db/patients';
import { freshDatabase } from '$lib/db/test-db';
import type { PatientFields } from '$lib/domain/records';
import { baseLocale, overwriteGetLocale } from '$lib/paraglide/runtime';
import { syncOnce } from './engine';
import { downloadTotal, type SyncProgress } from './progress';
import { syncProgressAnnouncement, syncProgressText } from './progress-text';
import { teamOnServer } from './test-server';
import type { SyncTransport } from './transport';

const fields: PatientFields = {
  givenName: 'Awa',
  familyName: 'Traoré',
  sex: 'female',
  birthDate: '1990-05-01',
  birthDateEstimated: false,
  village: 'Ségou',
  phone: '',
  identifiers: [],
};

const page = (n: number, hasMore: boolean, remaining?: number) => ({
  changes: Array.from({ length: n }, () => ({}) as never),
  hasMore,
  ...(remaining === undefined ? {} : { remaining }),
});

describe('downloadTotal', () => {
  it('takes the total from the first page that says what is left', () => {
    expect(downloadTotal(null, 0, page(1000, true, 9000))).toBe(10_000);
    // Later pages keep it (they are not counted by the server).
    expect(downloadTotal(10_000, 1000, page(1000, true))).toBe(10_000);
  });

  it('stays unknown with a server that does not say, until the last page', () => {
    expect(downloadTotal(null, 0, page(1000, true))).toBeNull();
    expect(downloadTotal(null, 1000, page(1000, true))).toBeNull();
    expect(downloadTotal(null, 2000, page(10, false))).toBe(2010);
  });

  it('ends at what came (an upper bound), and never falls below what is done', () => {
    // The server counted the device's own writes, which the pull left out.
    expect(downloadTotal(10_000, 9000, page(800, false))).toBe(9800);
    // Others wrote during the download: more came than announced.
    expect(downloadTotal(10_000, 10_000, page(500, true))).toBe(10_500);
  });
});

describe('sync progress words', () => {
  afterEach(() => overwriteGetLocale(() => baseLocale));
  const down = (done: number, total: number | null): SyncProgress => ({
    phase: 'download',
    done,
    total,
    bytes: 870 * 1024,
  });

  it('says what is done and what is left, numbers and plurals the language’s way', () => {
    expect(syncProgressText(down(1200, 10_000))).toBe(
      'Downloading 1,200 of 10,000 records (870 kB)…',
    );
    expect(syncProgressText({ phase: 'upload', done: 1, total: 1, bytes: 0 })).toBe(
      'Backing up 1 of 1 record (0 kB)…',
    );
    // An older server gave no total: what came so far, no invented "of N".
    expect(syncProgressText(down(1200, null))).toBe('Downloading: 1,200 records so far (870 kB)…');
    overwriteGetLocale(() => 'fr');
    const ko = new Intl.NumberFormat('fr', { style: 'unit', unit: 'kilobyte' }).format(870);
    expect(syncProgressText(down(1200, 10_000))).toBe(
      `Téléchargement de 1\u202f200 sur 10\u202f000 fiches (${ko})…`,
    );
    overwriteGetLocale(() => 'pt');
    expect(syncProgressText(down(1, 1))).toBe('A transferir 1 de 1 registo (870 kB)…');
  });

  it('announces a sync at its start and each quarter only', () => {
    const said = new Set<string>();
    for (let done = 0; done <= 10_000; done += 1000)
      said.add(syncProgressAnnouncement(down(done, 10_000)));
    expect([...said]).toEqual([
      'Downloading 10,000 records: 0% done',
      'Downloading 10,000 records: 25% done',
      'Downloading 10,000 records: 50% done',
      'Downloading 10,000 records: 75% done',
      'Downloading 10,000 records: 100% done',
    ]);
    expect(syncProgressAnnouncement(down(1200, null))).toBe('Downloading records from the server…');
  });
});

describe('syncOnce: the download says what is left', () => {
  let databases: FieldDxDatabase[] = [];
  beforeEach(() => (databases = []));
  afterEach(async () => {
    await Promise.all(databases.map((db) => db.delete()));
  });
  const device = () => {
    const db = freshDatabase();
    databases.push(db);
    return db;
  };

  /** Seven patients on the server, and a teammate's transport that pulls two a page. */
  async function sevenOnServer() {
    const { users } = await teamOnServer(2);
    const [a, b] = users as [(typeof users)[0], (typeof users)[0]];
    const tablet = device();
    for (let i = 0; i < 7; i++)
      await createPatient(tablet, { ...fields, givenName: `P${i}` }, a.author);
    await syncOnce(tablet, a.transport);
    const asked: boolean[] = [];
    const small: SyncTransport = {
      ...b.transport,
      pull: (id, cursor, _limit, acked, remaining) => {
        asked.push(remaining ?? false);
        return b.transport.pull(id, cursor, 2, acked, remaining);
      },
    };
    return { b, small, asked };
  }

  it('knows the total from the first page, asking the server once', async () => {
    const { small, asked } = await sevenOnServer();
    const seen: SyncProgress[] = [];
    const summary = await syncOnce(device(), small, (p) => seen.push(p));
    expect(summary.pulled).toBe(7);
    expect(asked).toEqual([true, false, false, false]);
    const down = seen.filter((p) => p.phase === 'download');
    expect(down.length).toBeGreaterThan(0);
    expect(down.every((p) => p.total === 7)).toBe(true);
    expect(down.at(-1)).toMatchObject({ done: 7, total: 7 });
  });

  it('with a server that does not say (older), shows what came, and the total at the end', async () => {
    const { small } = await sevenOnServer();
    const older: SyncTransport = {
      ...small,
      pull: async (...args) => {
        const { remaining: _, ...answer } = await small.pull(...args);
        return answer;
      },
    };
    const seen: SyncProgress[] = [];
    const summary = await syncOnce(device(), older, (p) => seen.push(p));
    expect(summary.pulled).toBe(7);
    const down = seen.filter((p) => p.phase === 'download');
    expect(down.slice(0, -1).every((p) => p.total === null)).toBe(true);
    expect(down.at(-1)).toMatchObject({ done: 7, total: 7 });
  });
});
