import type { Db } from '../../db/connection';
import type { Repositories, TxRepositories } from '../index';
import { SqliteAccountsRepository } from './accounts';
import { SqliteAuditRepository } from './audit';
import { SqliteBlobsRepository } from './blobs';
import { SqliteDevicesRepository } from './devices';
import { SqliteLimitsRepository } from './limits';
import { SqliteModelsRepository } from './models';
import { SqliteReviewQueueRepository } from './review-queue';
import { SqliteReviewReportsRepository } from './review-reports';
import { SqliteTeamsRepository } from './teams';
import { sqliteRunner, type SqliteRunner } from './runner';
import { sqliteSyncRepository } from './sync.repository';

function onRunner(runner: SqliteRunner): TxRepositories {
  return {
    dialect: 'sqlite',
    accounts: new SqliteAccountsRepository(runner),
    audit: new SqliteAuditRepository(runner),
    blobs: new SqliteBlobsRepository(runner),
    devices: new SqliteDevicesRepository(runner),
    limits: new SqliteLimitsRepository(runner),
    models: new SqliteModelsRepository(runner),
    reviewQueue: new SqliteReviewQueueRepository(runner),
    reviewReports: new SqliteReviewReportsRepository(runner),
    teams: new SqliteTeamsRepository(runner),
  };
}

/** The repositories of a SQLite database; every one shares the connection's gate. */
export function sqliteRepositories(db: Db): Repositories {
  const runner = sqliteRunner(db);
  return {
    ...onRunner(runner),
    sync: sqliteSyncRepository(db),
    transaction: (fn) => runner.transaction((tx) => fn(onRunner(tx))),
  };
}
