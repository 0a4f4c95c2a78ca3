import Dexie, { type ObservabilitySet } from 'dexie';
import { PatientSearchIndex } from '$lib/domain/patient-search-index';
import type { FieldDxDatabase, PatientRow } from './database';
import { mutatedKeys } from './mutated-keys';

/**
 * The device's patients in memory for the list and its search (see PatientSearchIndex), loaded
 * once and kept current from Dexie's change reports: a committed write that touches patients —
 * here, in a sync pull, or in another tab — is read back by key and applied before listeners
 * hear of it, so the list shows it at once. One per database; load() starts it.
 */
export class LivePatientSearch {
  private readonly index = new PatientSearchIndex<PatientRow>();
  private readonly listeners = new Set<() => void>();
  /** load() was called: from then on, changes are followed. */
  private following = false;
  private loaded = false;
  /** Changes waiting to be read back, applied in order by one drain at a time. */
  private readonly pendingIds = new Set<string>();
  private reloadAll = false;
  private draining: Promise<void> | null = null;
  private error: unknown = null;

  constructor(private readonly db: FieldDxDatabase) {
    Dexie.on('storagemutated', this.onMutated);
  }

  /** Loads every patient (once); resolves when search() and count answer. */
  load(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    if (!this.following) {
      this.following = true;
      this.reloadAll = true;
    }
    return this.schedule();
  }

  get ready(): boolean {
    return this.loaded;
  }

  /** The last failure to read patients back, until the next success. */
  get failure(): unknown {
    return this.error;
  }

  /** Patients not deleted; 0 until loaded. */
  get count(): number {
    return this.index.count;
  }

  /** The list for a query (listPatients' answer), from memory; [] until loaded. */
  search(query: string, limit: number): PatientRow[] {
    return this.index.search(query, limit);
  }

  /** Resolves when every change reported so far has been applied (for tests and callers that wait). */
  async settled(): Promise<void> {
    while (this.draining) await this.draining.catch(() => {});
  }

  /** Called after each change has been applied (and after a failure). Returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    Dexie.on('storagemutated').unsubscribe(this.onMutated);
    searches.delete(this.db);
  }

  private readonly onMutated = (parts: ObservabilitySet) => {
    // Before load() nothing is held; the load reads the current state anyway.
    if (!this.following) return;
    const keys = mutatedKeys(parts, this.db.name, 'patients');
    if (keys === 'all') this.reloadAll = true;
    else if (keys.length) for (const key of keys) this.pendingIds.add(key);
    else return;
    // A failure is reported to the listeners (failure), not thrown at Dexie's event.
    this.schedule().catch(() => {});
  };

  private schedule(): Promise<void> {
    this.draining ??= this.drain().finally(() => (this.draining = null));
    return this.draining;
  }

  /**
   * Reads back what changed, one step at a time so that a later read never lands before an
   * earlier one; changes reported meanwhile wait for the next step.
   */
  private async drain(): Promise<void> {
    try {
      while (this.reloadAll || this.pendingIds.size) {
        if (this.reloadAll) {
          this.reloadAll = false;
          this.pendingIds.clear();
          this.index.replaceAll(await this.db.patients.toArray());
          this.loaded = true;
        } else {
          const ids = [...this.pendingIds];
          this.pendingIds.clear();
          const rows = await this.db.patients.bulkGet(ids);
          this.index.apply(ids.map((id, i) => ({ id, row: rows[i] })));
        }
        this.error = null;
        this.notify();
      }
    } catch (error) {
      // What is held may now be behind the database: the next load() reads everything again.
      this.following = false;
      this.loaded = false;
      this.pendingIds.clear();
      this.error = error;
      this.notify();
      throw error;
    }
  }

  private notify() {
    for (const listener of this.listeners) listener();
  }
}

const searches = new WeakMap<FieldDxDatabase, LivePatientSearch>();

/** The database's live patient search, made on first use. */
export function patientSearch(db: FieldDxDatabase): LivePatientSearch {
  let search = searches.get(db);
  if (!search) {
    search = new LivePatientSearch(db);
    searches.set(db, search);
  }
  return search;
}
