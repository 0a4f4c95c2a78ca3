// Which version of each model the device offers, from what the app bundles, what the server's
// catalogue publishes and what the device has already downloaded. Pure: no fetch, no cache.
//
// - The server's active version is used once it is on the device (bundled with the same version,
//   or downloaded and verified); until then the device keeps the newest version it already has, so
//   a model in use is never half-updated.
// - A model whose every version the server retired is no longer offered for new runs.
// - Before the first sync (no server catalogue yet) the bundled models are offered as they are.
import { compareVersions, type CatalogueItem } from 'sync-server/protocol';
import type { CatalogueEntry } from './manifest';

/** A version downloaded from the server and verified: kept on the device. */
export interface SavedVersion {
  id: string;
  version: string;
  sha256: string;
}

export interface CatalogueChoice {
  /** What Diagnose offers, one entry per model. */
  entries: CatalogueEntry[];
  /** Active server versions not on the device yet: to download in the background. */
  pending: CatalogueItem[];
  /** Models the server retired entirely: not offered for new runs. */
  withdrawn: string[];
}

export const serverEntry = (item: CatalogueItem): CatalogueEntry => ({
  id: item.id,
  version: item.version,
  name: item.name,
  modality: item.modality,
  task: item.task,
  path: `${item.id}/manifest.json`,
  bytes: item.bytes,
  source: 'server',
});

export function chooseVersions(
  bundled: readonly CatalogueEntry[],
  server: readonly CatalogueItem[] | null,
  saved: readonly SavedVersion[],
): CatalogueChoice {
  if (!server) return { entries: [...bundled], pending: [], withdrawn: [] };
  const ids = [...new Set([...bundled.map((b) => b.id), ...server.map((s) => s.id)])].sort();
  const entries: CatalogueEntry[] = [];
  const pending: CatalogueItem[] = [];
  const withdrawn: string[] = [];
  for (const id of ids) {
    const mine = bundled.find((b) => b.id === id);
    const published = server.filter((s) => s.id === id);
    if (published.length === 0) {
      // The server does not know this model (yet): the app's own copy stands.
      if (mine) entries.push(mine);
      continue;
    }
    const active = published.find((s) => s.status === 'active');
    if (!active) {
      withdrawn.push(id);
      continue;
    }
    const isSaved = (version: string, sha256: string) =>
      saved.some((s) => s.id === id && s.version === version && s.sha256 === sha256);
    if (mine && mine.version === active.version) {
      entries.push(mine);
    } else if (isSaved(active.version, active.sha256)) {
      entries.push(serverEntry(active));
    } else {
      pending.push(active);
      // Meanwhile the newest version already on the device.
      const onDevice: CatalogueEntry[] = [
        ...(mine ? [mine] : []),
        ...published.filter((p) => isSaved(p.version, p.sha256)).map(serverEntry),
      ];
      const newest = onDevice.sort((a, b) => compareVersions(b.version, a.version))[0];
      if (newest) entries.push(newest);
    }
  }
  return { entries, pending, withdrawn };
}
