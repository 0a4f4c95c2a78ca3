import type Database from 'better-sqlite3';
import type { Db } from '../../db/connection';
import { IdleCheckpoint } from './checkpoint';

/*
 * How every SQLite repository runs its statements (see the comment atop sync.repository.ts): one
 * connection serves the whole process, and a transaction on it belongs to the connection, so a
 * transaction holds the connection's gate from BEGIN to COMMIT and every call outside it waits for
 * the gate while it is held. All repositories of one connection share one gate (gateOf).
 */

/** A FIFO lock for asynchronous work: at most one holder, the rest wait in order. */
export class Gate {
  #held = false;
  readonly #waiting: (() => void)[] = [];

  get held(): boolean {
    return this.#held;
  }

  acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Hands the gate to the next waiter, or frees it. */
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#held = false;
  }
}

const gates = new WeakMap<Db, Gate>();

/** The gate of a connection, shared by every repository on it (push and pull's included). */
export function gateOf(db: Db): Gate {
  let gate = gates.get(db);
  if (!gate) gates.set(db, (gate = new Gate()));
  return gate;
}

/** A settled promise of a synchronous statement's result (or its error). */
export function settle<T>(op: () => T): Promise<T> {
  try {
    return Promise.resolve(op());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** Runs the statements of the SQLite repositories, inside a transaction or waiting for one to end. */
export class SqliteRunner {
  constructor(
    readonly db: Db,
    private readonly gate: Gate,
    /** True for the runner handed to a transaction's function: it holds the gate. */
    readonly inTransaction: boolean,
  ) {}

  /** A synchronous drizzle or driver call, run now unless another caller's transaction is open. */
  run<T>(op: () => T): Promise<T> {
    if (this.inTransaction || !this.gate.held) return settle(op);
    return this.gate.acquire().then(() => {
      try {
        return op();
      } finally {
        this.gate.release();
      }
    });
  }

  /** BEGIN IMMEDIATE … COMMIT around `fn`, rolled back when it throws; never nested. */
  async transaction<T>(fn: (runner: SqliteRunner) => Promise<T>): Promise<T> {
    if (this.inTransaction) throw new Error('a transaction cannot be nested');
    const s = transactionStatements(this.db);
    await this.gate.acquire();
    try {
      s.begin.run();
      try {
        const result = await fn(new SqliteRunner(this.db, this.gate, true));
        s.commit.run();
        s.checkpoint?.committed();
        return result;
      } catch (error) {
        // Also after a failed COMMIT: the connection must not stay inside the transaction.
        if (s.client.inTransaction) s.rollback.run();
        throw error;
      }
    } finally {
      this.gate.release();
    }
  }
}

const statements = new WeakMap<Db, ReturnType<typeof prepareTransaction>>();

function prepareTransaction(db: Db) {
  // drizzle() returns the database with its driver as $client; the Db type leaves it out.
  const client = (db as Db & { $client: Database.Database }).$client;
  return {
    client,
    begin: client.prepare('BEGIN IMMEDIATE'),
    commit: client.prepare('COMMIT'),
    rollback: client.prepare('ROLLBACK'),
    // Only a WAL has checkpoints (an in-memory database, as in tests, has none).
    checkpoint:
      client.pragma('journal_mode', { simple: true }) === 'wal'
        ? new IdleCheckpoint(client, gateOf(db))
        : undefined,
  };
}

/**
 * BEGIN, COMMIT and ROLLBACK of a connection, prepared once (a push runs one transaction each), and
 * its idle checkpoint (checkpoint.ts).
 */
function transactionStatements(db: Db) {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepareTransaction(db)));
  return s;
}

/** The runner of a connection outside any transaction. */
export function sqliteRunner(db: Db): SqliteRunner {
  return new SqliteRunner(db, gateOf(db), false);
}
