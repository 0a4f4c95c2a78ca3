import { eq } from 'drizzle-orm';
import { users } from '../../db/schema';
import type { AccountsRepository } from '../accounts.repository';
import type { SqliteRunner } from './runner';

export class SqliteAccountsRepository implements AccountsRepository {
  constructor(private readonly r: SqliteRunner) {}

  isAdmin(userId: string) {
    return this.r.run(
      () =>
        this.r.db.select({ isAdmin: users.isAdmin }).from(users).where(eq(users.id, userId)).get()
          ?.isAdmin ?? false,
    );
  }
}
