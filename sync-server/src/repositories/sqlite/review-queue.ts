import type { ReviewQueueRepository } from '../review-queue.repository';
import type { SqliteRunner } from './runner';

export class SqliteReviewQueueRepository implements ReviewQueueRepository {
  constructor(private readonly r: SqliteRunner) {}
}
