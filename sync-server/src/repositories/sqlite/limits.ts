import type { LimitsRepository } from '../limits.repository';
import type { SqliteRunner } from './runner';

export class SqliteLimitsRepository implements LimitsRepository {
  constructor(private readonly r: SqliteRunner) {}
}
