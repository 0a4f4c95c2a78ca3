import type { BlobsRepository } from '../blobs.repository';
import type { SqliteRunner } from './runner';

export class SqliteBlobsRepository implements BlobsRepository {
  constructor(private readonly r: SqliteRunner) {}
}
