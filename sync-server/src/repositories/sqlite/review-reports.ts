import type { ReviewReportsRepository } from '../review-reports.repository';
import type { SqliteRunner } from './runner';

export class SqliteReviewReportsRepository implements ReviewReportsRepository {
  constructor(private readonly r: SqliteRunner) {}
}
