import { eq } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { users } from '../../db/schema.pg';
import type { AccountsRepository } from '../accounts.repository';

export class PgAccountsRepository implements AccountsRepository {
  constructor(private readonly db: PgDbOrTx) {}

  async isAdmin(userId: string) {
    const [row] = await this.db
      .select({ isAdmin: users.isAdmin })
      .from(users)
      .where(eq(users.id, userId));
    return row?.isAdmin ?? false;
  }
}
