import type { PasswordHasher } from './auth/password';
import type { BlobStore } from './blob-store/store';
import type { Db } from './db/connection';
import type { SessionRow, UserRow } from './db/schema';
import type { Env } from './env';
import type { Logger } from './logger';
import type { SyncRepository } from './repositories/sync.repository';

/** Everything the app needs from outside; tests inject their own. */
export interface AppDeps {
  db: Db;
  env: Env;
  /** Where blob bytes go; the filesystem store under env.DATA_DIR when not given. */
  blobStore?: BlobStore;
  logger: Logger;
  now: () => Date;
  passwords: PasswordHasher;
  /**
   * Where push and pull read and write (repositories/): the SQLite repository of `db` when unset.
   * Only the sync hot path goes through it so far; the other services use `db`.
   */
  syncRepo?: SyncRepository;
}

export type AppEnv = {
  Variables: {
    /** The signed-in user, set by the session middleware on /api. */
    user: UserRow | null;
    session: SessionRow | null;
  };
};

/** Variables after requireUser / requireAdmin. */
export type AuthedEnv = { Variables: { user: UserRow; session: SessionRow } };
