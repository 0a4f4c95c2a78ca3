import type { PgDbOrTx } from '../../db/postgres';
import type { LimitsRepository } from '../limits.repository';

export class PgLimitsRepository implements LimitsRepository {
  constructor(private readonly db: PgDbOrTx) {}
}
