import path from 'node:path';
import { backup, restore } from './backup';
import { dataDirFromEnv } from './env';

// `pnpm backup <folder>` / `pnpm restore <folder>` (README "Backup and restore"). DATA_DIR is read
// as the server reads it; folders given on the command line are relative to where pnpm was run.
const [command, folder] = process.argv.slice(2);
const usage = 'Usage: backup <empty folder> | restore <backup folder>  (DATA_DIR names the data)';
if ((command !== 'backup' && command !== 'restore') || !folder) {
  console.error(usage);
  process.exit(2);
}
const dataDir = dataDirFromEnv();
const target = path.resolve(process.env.INIT_CWD ?? process.cwd(), folder);
try {
  const started = performance.now();
  const summary =
    command === 'backup' ? await backup(dataDir, target) : await restore(target, dataDir);
  const ms = Math.round(performance.now() - started);
  const what = command === 'backup' ? `${dataDir} -> ${target}` : `${target} -> ${dataDir}`;
  console.log(
    `${command}: ${what}: database ${summary.databaseBytes} bytes, ` +
      `${summary.blobs} blobs (${summary.blobBytes} bytes), ` +
      `${summary.modelFiles} model files (${summary.modelFileBytes} bytes), ${ms} ms`,
  );
  if (summary.modelFilesMissing > 0) {
    console.warn(
      `${command}: ${summary.modelFilesMissing} model file(s) the catalogue lists are not in ${command === 'backup' ? dataDir : target}: ` +
        'bundled ones are stored again when the server starts; upload the others again.',
    );
  }
} catch (err) {
  console.error(`${command} failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
