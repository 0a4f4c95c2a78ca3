import { dataDirFromEnv } from './env';
import { MoveError, moveToPostgres } from './move-to-postgres';

// `pnpm move-to-postgres` (README "Scaling out"): DATA_DIR names the SQLite data folder, as the
// server reads it; DATABASE_URL the empty PostgreSQL database. Exit 0 only when the copy was
// committed and checked; 1 with one line saying why otherwise.
const dataDir = dataDirFromEnv();
try {
  console.log(`Moving ${dataDir} into PostgreSQL…`);
  const report = await moveToPostgres({
    dataDir,
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => console.log(line),
  });
  const rows = report.tables.reduce((sum, t) => sum + t.rows, 0);
  console.log(
    `Moved and checked: ${report.tables.length} tables, ${rows} rows (counts and contents equal), ` +
      `${report.blobs} blobs, ${report.blobBytes} bytes, ` +
      `${report.modelFiles} model files, ${report.modelFileBytes} bytes (SHA-256 read back), in ${report.ms} ms.`,
  );
  if (report.unlistedBlobFiles > 0) {
    console.log(
      `Not moved: ${report.unlistedBlobFiles} file(s) under blobs/ that no row lists (uploads a crash left unrecorded).`,
    );
  }
  if (report.modelFilesMissing > 0) {
    console.log(
      `Not moved: ${report.modelFilesMissing} model file(s) the catalogue lists, missing or damaged in ${dataDir}: ` +
        'the server stores a bundled version’s file again at start; upload the others again.',
    );
  }
} catch (err) {
  // The message only: never an inspected error object, whose properties could quote a row.
  console.error(
    err instanceof MoveError
      ? `move-to-postgres: ${err.message}`
      : `move-to-postgres failed: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
}
