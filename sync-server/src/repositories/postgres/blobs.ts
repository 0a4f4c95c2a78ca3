import type { PgDbOrTx } from '../../db/postgres';
import type { BlobsRepository } from '../blobs.repository';

export class PgBlobsRepository implements BlobsRepository {
  constructor(private readonly db: PgDbOrTx) {}
}
