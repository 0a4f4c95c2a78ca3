import type { PgDbOrTx } from '../../db/postgres';
import type { ReviewReportsRepository } from '../review-reports.repository';

export class PgReviewReportsRepository implements ReviewReportsRepository {
  constructor(private readonly db: PgDbOrTx) {}
}
