import { and, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { blobs, blobTeams, reviewDiagnoses } from '../../db/schema.pg';
import type { BlobInsert, BlobReaders, BlobsRepository } from '../blobs.repository';

export class PgBlobsRepository implements BlobsRepository {
  constructor(private readonly db: PgDbOrTx) {}

  async find(sha256: string) {
    const [row] = await this.db
      .select({ bytes: blobs.bytes, mime: blobs.mime })
      .from(blobs)
      .where(eq(blobs.sha256, sha256));
    return row;
  }

  async hasTeam(sha256: string, teamId: string) {
    const [row] = await this.db
      .select({ teamId: blobTeams.teamId })
      .from(blobTeams)
      .where(and(eq(blobTeams.sha256, sha256), eq(blobTeams.teamId, teamId)));
    return row !== undefined;
  }

  async record(blob: BlobInsert) {
    // ON CONFLICT DO NOTHING on both: a concurrent upload of the same hash (on this instance or
    // another) waits for the other's commit, then keeps its rows.
    await this.db.insert(blobs).values(blob).onConflictDoNothing();
    await this.db
      .insert(blobTeams)
      .values({
        sha256: blob.sha256,
        teamId: blob.teamId,
        createdBy: blob.createdBy,
        createdAt: blob.createdAt,
      })
      .onConflictDoNothing();
  }

  async findReadable(sha256: string, readers: BlobReaders) {
    const allowed = readableBy(readers);
    if (!allowed) return undefined;
    const [row] = await this.db
      .select({ bytes: blobs.bytes, mime: blobs.mime })
      .from(blobs)
      .where(and(eq(blobs.sha256, sha256), allowed));
    return row;
  }
}

/** The condition on a blobs row for these readers; undefined when they may read no blob. */
function readableBy({ clinicianTeams, supervisedTeams }: BlobReaders): SQL | undefined {
  const ways: SQL[] = [];
  if (clinicianTeams.length > 0) {
    ways.push(sql`exists (select 1 from ${blobTeams} where ${blobTeams.sha256} = ${blobs.sha256}
      and ${inArray(blobTeams.teamId, [...clinicianTeams])})`);
  }
  if (supervisedTeams === 'all') {
    ways.push(sql`exists (select 1 from ${reviewDiagnoses}
      where ${reviewDiagnoses.imageSha256} = ${blobs.sha256})`);
  } else if (supervisedTeams.length > 0) {
    ways.push(sql`exists (select 1 from ${reviewDiagnoses}
      where ${reviewDiagnoses.imageSha256} = ${blobs.sha256}
      and ${inArray(reviewDiagnoses.teamId, [...supervisedTeams])})`);
  }
  return ways.length > 0 ? or(...ways) : undefined;
}
