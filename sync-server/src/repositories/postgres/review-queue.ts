import type { PgDbOrTx } from '../../db/postgres';
import type { ReviewQueueRepository } from '../review-queue.repository';

export class PgReviewQueueRepository implements ReviewQueueRepository {
  constructor(private readonly db: PgDbOrTx) {}
}
