import { statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE_NAME, openDataDir, type OpenedDatabase } from '../../db/connection';
import { tempDir } from '../../test-utils';
import { IDLE_CHECKPOINT_MS } from './checkpoint';
import { gateOf, sqliteRunner } from './runner';

/*
 * In WAL mode the database file changes only when a checkpoint copies the WAL into it: its size
 * tells whether one ran.
 */
describe('idle WAL checkpoint', () => {
  let opened: OpenedDatabase | undefined;
  let data: ReturnType<typeof tempDir> | undefined;
  afterEach(() => {
    opened?.close();
    data?.remove();
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function setUp() {
    data = tempDir('fdx-checkpoint-');
    opened = openDataDir(data.dir);
    // Whatever the migrations left in the WAL goes first, so that the file size is a baseline.
    opened.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    opened.sqlite.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, data TEXT NOT NULL)');
    opened.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const file = path.join(data.dir, DB_FILE_NAME);
    const runner = sqliteRunner(opened.db);
    const insert = opened.sqlite.prepare('INSERT INTO filler (data) VALUES (?)');
    /** A transaction writing about 1 MB. */
    const write = () =>
      runner.transaction(async () => {
        for (let i = 0; i < 500; i++) insert.run('x'.repeat(2000));
      });
    return { size: () => statSync(file).size, write, gate: gateOf(opened.db) };
  }

  it('copies the WAL into the database once nothing has been committed for a while', async () => {
    const { size, write } = await setUp();
    const before = size();
    await write();
    // Not inside the commit: the push that wrote it does not wait for the copy.
    expect(size()).toBe(before);
    await sleep(IDLE_CHECKPOINT_MS * 3);
    expect(size()).toBeGreaterThan(before + 900_000);
  });

  it('waits while a transaction holds the connection, and after each new commit', async () => {
    const { size, write, gate } = await setUp();
    const before = size();
    await write();
    await sleep(IDLE_CHECKPOINT_MS / 2);
    await write(); // the wait starts again
    await sleep(IDLE_CHECKPOINT_MS / 2 + 20);
    expect(size()).toBe(before);
    await gate.acquire(); // a transaction in progress
    await sleep(IDLE_CHECKPOINT_MS * 2);
    expect(size()).toBe(before);
    gate.release();
    await sleep(IDLE_CHECKPOINT_MS * 3);
    expect(size()).toBeGreaterThan(before + 1_800_000);
  });

  it('does nothing once the connection is closed', async () => {
    const { write } = await setUp();
    await write();
    opened!.close();
    opened = undefined;
    await sleep(IDLE_CHECKPOINT_MS * 2); // an error here would fail the run as unhandled
  });
});
