import { and, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { blobs, blobTeams, reviewDiagnoses } from '../../db/schema';
import type { BlobInsert, BlobReaders, BlobsRepository } from '../blobs.repository';
import type { SqliteRunner } from './runner';

export class SqliteBlobsRepository implements BlobsRepository {
  constructor(private readonly r: SqliteRunner) {}

  find(sha256: string) {
    return this.r.run(() =>
      this.r.db
        .select({ bytes: blobs.bytes, mime: blobs.mime })
        .from(blobs)
        .where(eq(blobs.sha256, sha256))
        .get(),
    );
  }

  hasTeam(sha256: string, teamId: string) {
    return this.r.run(
      () =>
        this.r.db
          .select({ teamId: blobTeams.teamId })
          .from(blobTeams)
          .where(and(eq(blobTeams.sha256, sha256), eq(blobTeams.teamId, teamId)))
          .get() !== undefined,
    );
  }

  record(blob: BlobInsert) {
    return this.r.run(() => {
      this.r.db.insert(blobs).values(blob).onConflictDoNothing().run();
      this.r.db
        .insert(blobTeams)
        .values({
          sha256: blob.sha256,
          teamId: blob.teamId,
          createdBy: blob.createdBy,
          createdAt: blob.createdAt,
        })
        .onConflictDoNothing()
        .run();
    });
  }

  findReadable(sha256: string, readers: BlobReaders) {
    const allowed = readableBy(readers);
    if (!allowed) return Promise.resolve(undefined);
    return this.r.run(() =>
      this.r.db
        .select({ bytes: blobs.bytes, mime: blobs.mime })
        .from(blobs)
        .where(and(eq(blobs.sha256, sha256), allowed))
        .get(),
    );
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
