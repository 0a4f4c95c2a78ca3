import type pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { PgDbOrTx } from '../../db/postgres';
import * as schema from '../../db/schema.pg';
import type { Repositories, TxRepositories } from '../index';
import { PgAccountsRepository } from './accounts';
import { PgAuditRepository } from './audit';
import { PgBlobsRepository } from './blobs';
import { PgDevicesRepository } from './devices';
import { PgLimitsRepository } from './limits';
import { PgModelsRepository } from './models';
import { PgReviewQueueRepository } from './review-queue';
import { PgReviewReportsRepository } from './review-reports';
import { PgTeamsRepository } from './teams';
import { postgresSyncRepository } from './sync.repository';

function onDb(db: PgDbOrTx): TxRepositories {
  return {
    dialect: 'postgres',
    accounts: new PgAccountsRepository(db),
    audit: new PgAuditRepository(db),
    blobs: new PgBlobsRepository(db),
    devices: new PgDevicesRepository(db),
    limits: new PgLimitsRepository(db),
    models: new PgModelsRepository(db),
    reviewQueue: new PgReviewQueueRepository(db),
    reviewReports: new PgReviewReportsRepository(db),
    teams: new PgTeamsRepository(db),
  };
}

/** The repositories of a PostgreSQL pool (db/postgres.ts openPostgres). */
export function postgresRepositories(pool: pg.Pool): Repositories {
  const db = drizzle({ client: pool, schema });
  return {
    ...onDb(db),
    sync: postgresSyncRepository(pool),
    transaction: (fn) => db.transaction((tx) => fn(onDb(tx))),
  };
}
