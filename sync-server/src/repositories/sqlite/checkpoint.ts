import type Database from 'better-sqlite3';
import type { Gate } from './runner';

/**
 * How long the connection must go without a committed transaction before the WAL is copied back
 * into the database file.
 */
export const IDLE_CHECKPOINT_MS = 200;

/*
 * WAL checkpoints in idle time. SQLite's automatic checkpoint runs inside the COMMIT that takes the
 * WAL past `wal_autocheckpoint` pages: the push that happened to cross it waited while tens of MB
 * were copied into the database file (~150 ms of a 10,000-record sync here). After each
 * transaction the connection checkpoints once nothing has been committed for IDLE_CHECKPOINT_MS
 * and no transaction holds the gate, so a sync in progress never waits for one; the automatic
 * checkpoint stays as the ceiling under sustained writes (db/connection.ts). PASSIVE never waits
 * for readers or writers of other processes sharing the file: it copies what it can.
 */
export class IdleCheckpoint {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Database.Database,
    private readonly gate: Gate,
    private readonly idleMs = IDLE_CHECKPOINT_MS,
  ) {}

  /** A transaction committed: (re)start the wait. */
  committed(): void {
    clearTimeout(this.#timer);
    // unref: a pending checkpoint never keeps a finishing process alive.
    this.#timer = setTimeout(() => this.#run(), this.idleMs).unref();
  }

  #run(): void {
    this.#timer = undefined;
    if (this.gate.held) return this.committed();
    if (!this.client.open) return;
    try {
      this.client.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Nothing is lost: the WAL holds every commit until a later checkpoint (the next idle one,
      // or SQLite's automatic one) copies it.
    }
  }
}
