import type { AccountsRepository } from './accounts.repository';
import type { AuditRepository } from './audit.repository';
import type { BlobsRepository } from './blobs.repository';
import type { DevicesRepository } from './devices.repository';
import type { LimitsRepository } from './limits.repository';
import type { ModelsRepository } from './models.repository';
import type { ReviewQueueRepository } from './review-queue.repository';
import type { ReviewReportsRepository } from './review-reports.repository';
import type { SyncRepository } from './sync.repository';
import type { TeamsRepository } from './teams.repository';

/*
 * Every table the server reads or writes, behind one asynchronous interface per concern (issue 17),
 * implemented once per dialect: repositories/sqlite (better-sqlite3, the embedded default) and
 * repositories/postgres (node-postgres, DATABASE_URL). Services take these and never a database
 * handle, so one code path serves both. Each concern's interface lives in <concern>.repository.ts.
 */

/** The repositories a service may use inside a transaction (and outside one). */
export interface TxRepositories {
  readonly dialect: 'sqlite' | 'postgres';
  readonly accounts: AccountsRepository;
  readonly audit: AuditRepository;
  readonly blobs: BlobsRepository;
  readonly devices: DevicesRepository;
  readonly limits: LimitsRepository;
  readonly models: ModelsRepository;
  readonly reviewQueue: ReviewQueueRepository;
  readonly reviewReports: ReviewReportsRepository;
  readonly teams: TeamsRepository;
}

export interface Repositories extends TxRepositories {
  /** Push and pull, with their own transactions (SyncRepository.transaction). */
  readonly sync: SyncRepository;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Not
   * nested, and not around a sync transaction (push has its own).
   */
  transaction<T>(fn: (tx: TxRepositories) => Promise<T>): Promise<T>;
}
