import { matchesWords } from './patient';
import { words } from './text';

/** What the index needs of a patient row: its search words, list order and tombstone. */
export interface SearchablePatient {
  id: string;
  searchTokens: readonly string[];
  lastVisitAt: string;
  deleted: boolean;
}

/**
 * The patient list's order: latest visit first, then the newer id — the order of a reverse walk
 * of the lastVisitAt index (IndexedDB compares strings by code unit, as `<` does).
 */
export function byLatestVisit(a: SearchablePatient, b: SearchablePatient): number {
  if (a.lastVisitAt !== b.lastVisitAt) return a.lastVisitAt < b.lastVisitAt ? 1 : -1;
  return a.id === b.id ? 0 : a.id < b.id ? 1 : -1;
}

/**
 * Every patient of the device in memory, in list order, so that a search keystroke is a scan of
 * plain arrays (about a millisecond for 10,000 patients) instead of IndexedDB range reads and the
 * structured clone of the rows they return. Holds the rows themselves: the list shows them as
 * they are, and each is an object the database read has already made.
 */
export class PatientSearchIndex<Row extends SearchablePatient> {
  private readonly rows = new Map<string, Row>();
  /** The rows in list order; null after replaceAll, sorted on the next read. */
  private ordered: Row[] | null = [];
  private liveCount = 0;

  /** Replaces the whole content (first load, or a change too wide to apply row by row). */
  replaceAll(rows: readonly Row[]): void {
    this.rows.clear();
    this.liveCount = 0;
    this.ordered = null;
    for (const row of rows) this.put(row);
  }

  /**
   * Applies the current state of some patients: a row, or undefined when it no longer exists.
   * Each moves to its place in the sorted list (a sync page acknowledges hundreds of patients:
   * sorting all 10,000 again for each page would cost more than the page).
   */
  apply(changes: readonly { id: string; row: Row | undefined }[]): void {
    for (const { id, row } of changes) {
      if (row) this.put(row);
      else this.remove(id);
    }
  }

  /** Patients not deleted. */
  get count(): number {
    return this.liveCount;
  }

  /**
   * The first `limit` patients, in list order, whose every query word starts one of their
   * search words; with no query words, the first `limit` patients. Deleted ones never show.
   */
  search(query: string, limit: number): Row[] {
    const queryWords = words(query);
    const found: Row[] = [];
    for (const row of this.inOrder()) {
      if (found.length >= limit) break;
      if (!row.deleted && matchesWords(row.searchTokens, queryWords)) found.push(row);
    }
    return found;
  }

  private inOrder(): Row[] {
    this.ordered ??= [...this.rows.values()].sort(byLatestVisit);
    return this.ordered;
  }

  private put(row: Row): void {
    this.remove(row.id);
    this.rows.set(row.id, row);
    if (!row.deleted) this.liveCount++;
    this.ordered?.splice(this.position(this.ordered, row), 0, row);
  }

  private remove(id: string): void {
    const old = this.rows.get(id);
    if (!old) return;
    this.rows.delete(id);
    if (!old.deleted) this.liveCount--;
    // Ids are unique, so the row sorting at old's place is old itself.
    this.ordered?.splice(this.position(this.ordered, old), 1);
  }

  /** Where a row goes in the sorted list: the first place whose row does not sort before it. */
  private position(ordered: readonly Row[], row: Row): number {
    let low = 0;
    let high = ordered.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (byLatestVisit(ordered[middle]!, row) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
