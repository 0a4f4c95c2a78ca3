/** A blob's metadata row, and the team its first upload was for. */
export interface BlobInsert {
  sha256: string;
  bytes: number;
  mime: string;
  teamId: string;
  createdBy: string;
  createdAt: Date;
}

/** Who may read a blob (services/blobs.ts getBlob decides, from the caller's scope). */
export interface BlobReaders {
  /** Teams where the caller is a clinician: any blob uploaded for one of them. */
  clinicianTeams: readonly string[];
  /**
   * Teams whose shared reports' diagnosis images the caller may read ('all' for an
   * administrator).
   */
  supervisedTeams: readonly string[] | 'all';
}

/** What the services need from blob metadata (blobs, blob_teams); the bytes are in a BlobStore. */
export interface BlobsRepository {
  /** The blob's size and type (those of its first upload) when it is recorded. */
  find(sha256: string): Promise<{ bytes: number; mime: string } | undefined>;
  /** Whether the blob was given to this team. */
  hasTeam(sha256: string, teamId: string): Promise<boolean>;
  /**
   * Records the blob unless it is recorded (the first upload's row, and type, stay), then gives
   * it to the team unless it has it: both idempotent, so that concurrent uploads of one hash
   * neither fail nor overwrite each other. Two statements: call it inside a transaction.
   */
  record(blob: BlobInsert): Promise<void>;
  /** The blob's size and type when these readers may read it; undefined otherwise. */
  findReadable(
    sha256: string,
    readers: BlobReaders,
  ): Promise<{ bytes: number; mime: string } | undefined>;
}
