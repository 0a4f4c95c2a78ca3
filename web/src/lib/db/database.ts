import Dexie, { type Table } from 'dexie';
import { appVault } from '$lib/crypto/vault';
import type {
  Attachment,
  Comment,
  Diagnosis,
  Followup,
  Encounter,
  Patient,
  Report,
  Review,
  SyncedTable,
} from '$lib/domain/records';
import { familyKey } from '$lib/domain/patient';
import { encryptionMiddleware, type KeySource } from './encryption';
import { exactKeys } from './mutated-keys';
import type { VersionRow } from './versions';

export interface SettingRow {
  key: string;
  value: unknown;
}

/** A patient as stored here: the synced record plus local-only index fields. */
export interface PatientRow extends Patient {
  /** Folded words the list search matches (in memory: see patient-search.ts). */
  searchTokens: string[];
  /** First folded word of the family name: the duplicate check's index. */
  familyKey: string;
  /** Date of the latest visit, or of registration: the list's sort order. */
  lastVisitAt: string;
}

/** A mutation waiting to reach the server (DESIGN 4), written in the same transaction as its record. */
export interface OutboxRow {
  seq?: number;
  mutationId: string;
  table: SyncedTable;
  recordId: string;
  op: 'put' | 'delete';
  /** The server version this edit started from (0 = new record). */
  baseVersion: number;
  /** The record's synced fields at the time of the edit. */
  data: Record<string, unknown>;
  createdAt: string;
  /** Set on the edit that resolves a conflict; the server closes the conflict when it applies it. */
  resolvesConflictId?: string;
  /** The server refused this edit (scope, immutability…): kept, shown, and not sent again as is. */
  rejected?: { code: string; reason: string };
}

/** A conflict the server reported for one of this device's edits, until the clinician resolves it. */
export interface ConflictRow {
  id: string;
  table: SyncedTable;
  recordId: string;
  /** The fields both sides changed to different values. */
  fields: string[];
  /** This device's values of those fields (the server kept its own). */
  deviceValues: Record<string, unknown>;
  /** The record's server version when the conflict was made: the resolution's base. */
  serverVersion: number;
  createdAt: string;
}

/**
 * An image's bytes by content hash. Stored sealed (encryption.ts) since version 6; rows written
 * before hold the Blob itself (`blob`) until the first unlock seals them (keyring.ts).
 */
export interface BlobRow {
  sha256: string;
  bytes: Uint8Array;
  mime: string;
}

/** The image of a stored row, whichever form it was written in. */
export function blobOf(row: BlobRow | { sha256: string; blob: Blob }): Blob {
  if ('blob' in row) return row.blob;
  return new Blob([row.bytes as BlobPart], { type: row.mime });
}

export interface SyncStateRow {
  key: string;
  value: unknown;
}

/**
 * The one IndexedDB database of the app. Schema versions are append-only: never edit a
 * version() block that has shipped; add a new one (with an upgrade function when data moves).
 */
export class FieldDxDatabase extends Dexie {
  settings!: Table<SettingRow, string>;
  patients!: Table<PatientRow, string>;
  encounters!: Table<Encounter, string>;
  diagnoses!: Table<Diagnosis, string>;
  reports!: Table<Report, string>;
  reviews!: Table<Review, string>;
  attachments!: Table<Attachment, string>;
  outbox!: Table<OutboxRow, number>;
  blobs!: Table<BlobRow, string>;
  syncState!: Table<SyncStateRow, string>;
  conflicts!: Table<ConflictRow, string>;
  comments!: Table<Comment, string>;
  followups!: Table<Followup, string>;
  pushedVersions!: Table<VersionRow, [string, string]>;

  /**
   * With `keys`, patient data is sealed at rest (encryption.ts) and needs the data key to be read
   * or written; without, rows are stored in clear (only schema tests open it so).
   */
  constructor(name = 'fielddx', keys?: KeySource) {
    super(name);
    this.version(1).stores({ settings: 'key' });
    this.version(2).stores({
      patients: 'id, lastVisitAt, *searchTokens',
      encounters: 'id, patientId, [patientId+date]',
      diagnoses: 'id, patientId, encounterId',
      reports: 'id, patientId, status',
      reviews: 'id, reportId',
      attachments: 'id, patientId, sha256',
      outbox: '++seq, [table+recordId]',
      blobs: 'sha256',
      syncState: 'key',
    });
    this.version(3).stores({ conflicts: 'id, [table+recordId]' });
    // The list searches in memory since version 4. A multi-entry index of every search word made
    // each patient write about twice as slow (a sync pull writes thousands); the duplicate check
    // needs only the family name.
    this.version(4)
      .stores({ patients: 'id, lastVisitAt, familyKey' })
      .upgrade((tx) =>
        tx
          .table('patients')
          .toCollection()
          .modify((p: PatientRow) => {
            p.familyKey = familyKey(p);
          }),
      );
    // Supervisor review (issue 11): the server syncs comments and follow-ups of the team. The
    // follow-ups' status index counts the open ones (the menu badge) without reading them all.
    this.version(5).stores({ comments: 'id, reportId', followups: 'id, patientId, status' });
    // Encryption at rest (issue 15): every index stays in clear, and the family name is not one to
    // keep readable. Nothing queried it (the duplicate check compares in memory).
    this.version(6).stores({ patients: 'id, lastVisitAt' });
    // No echo pull, encrypted (issues 15 and 17): the versions push answers give records, beside
    // the sealed records instead of written into them (versions.ts). Not sealed: ids and numbers.
    this.version(7).stores({ pushedVersions: '[table+id]' });
    if (keys) this.use(encryptionMiddleware(keys));
    // The live patient search reads back changed patients by key, bulk sync writes included.
    this.use(exactKeys(['patients']));
    // A newer app version in another tab wants to upgrade the schema: let it.
    this.on('versionchange', () => {
      this.close();
      return false;
    });
  }
}

let instance: FieldDxDatabase | undefined;

/** The app's database, opened on first use (never during module import, so tests stay isolated). */
export function getDatabase(): FieldDxDatabase {
  instance ??= new FieldDxDatabase('fielddx', appVault);
  return instance;
}
