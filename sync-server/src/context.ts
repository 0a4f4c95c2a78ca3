import type { PasswordHasher } from './auth/password';
import type { BlobStore } from './blob-store/store';
import type { SessionRow, UserRow } from './db/schema';
import type { Env } from './env';
import type { Logger } from './logger';
import type { Repositories } from './repositories';

/** Everything the app needs from outside; tests inject their own. */
export interface AppDeps {
  /** Every table, on SQLite or PostgreSQL (repositories/). */
  repos: Repositories;
  env: Env;
  /** Where blob bytes go; the filesystem store under env.DATA_DIR when not given. */
  blobStore?: BlobStore;
  logger: Logger;
  now: () => Date;
  passwords: PasswordHasher;
}

export type AppEnv = {
  Variables: {
    /** The signed-in user, set by the session middleware on /api. */
    user: UserRow | null;
    session: SessionRow | null;
    /**
     * Set by gzipBody when the inflated body cannot hold U+0000: JSON writes it only as the
     * escape \u0000, which the body does not contain (protocol/nul.ts).
     */
    bodyNulFree?: boolean;
  };
};

/** Variables after requireUser / requireAdmin. */
export type AuthedEnv = { Variables: { user: UserRow; session: SessionRow } };
