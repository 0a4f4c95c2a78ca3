import { compareVersions, type CatalogueItem } from 'sync-server/protocol';
import { describe, expect, it } from 'vitest';
import type { CatalogueEntry } from './manifest';
import { chooseVersions, serverEntry } from './model-catalogue';

const bundled: CatalogueEntry = {
  id: 'pneumonia-cxr',
  version: '1.0.0',
  name: 'Pneumonia',
  modality: 'image',
  task: 'binary-classification',
  path: 'pneumonia-cxr/manifest.json',
  bytes: 100,
  source: 'bundled',
};
const item = (
  version: string,
  status: CatalogueItem['status'],
  id = bundled.id,
): CatalogueItem => ({
  id,
  version,
  name: 'Pneumonia',
  modality: 'image',
  task: 'binary-classification',
  bytes: 100,
  sha256: `sha-of-${id}-${version}`,
  status,
  releaseNotes: '',
  activatedAt: null,
  createdAt: '2026-11-01T00:00:00.000Z',
});
const saved = (version: string, id = bundled.id) => ({
  id,
  version,
  sha256: `sha-of-${id}-${version}`,
});
const versionsOf = (entries: CatalogueEntry[]) =>
  entries.map((e) => `${e.id}@${e.version}:${e.source}`);

describe('choosing the version of each model the device offers', () => {
  it('offers the bundled models before the first sync', () => {
    expect(chooseVersions([bundled], null, [])).toEqual({
      entries: [bundled],
      pending: [],
      withdrawn: [],
    });
  });

  it('keeps the bundled copy when it is the active version', () => {
    const choice = chooseVersions([bundled], [item('1.0.0', 'active')], []);
    expect(versionsOf(choice.entries)).toEqual(['pneumonia-cxr@1.0.0:bundled']);
    expect(choice.pending).toEqual([]);
  });

  it('keeps the old version until the new one is on the device, then switches', () => {
    const server = [item('1.0.0', 'retired'), item('1.1.0', 'active')];
    const before = chooseVersions([bundled], server, []);
    expect(versionsOf(before.entries)).toEqual(['pneumonia-cxr@1.0.0:bundled']);
    expect(before.pending.map((p) => p.version)).toEqual(['1.1.0']);
    const after = chooseVersions([bundled], server, [saved('1.1.0')]);
    expect(versionsOf(after.entries)).toEqual(['pneumonia-cxr@1.1.0:server']);
    expect(after.pending).toEqual([]);
  });

  it('does not take a saved copy whose sha256 is not the published one', () => {
    const server = [item('1.1.0', 'active')];
    const choice = chooseVersions([bundled], server, [{ ...saved('1.1.0'), sha256: 'other' }]);
    expect(versionsOf(choice.entries)).toEqual(['pneumonia-cxr@1.0.0:bundled']);
    expect(choice.pending).toHaveLength(1);
  });

  it('follows a rollback: the older active version, already on the device, is used at once', () => {
    const rolledBack = [item('1.0.0', 'active'), item('1.1.0', 'retired')];
    const choice = chooseVersions([bundled], rolledBack, [saved('1.1.0')]);
    expect(versionsOf(choice.entries)).toEqual(['pneumonia-cxr@1.0.0:bundled']);
    expect(choice.pending).toEqual([]);
  });

  it('falls back to the newest downloaded version while a newer one downloads', () => {
    const server = [item('1.1.0', 'retired'), item('1.2.0', 'active')];
    const choice = chooseVersions([bundled], server, [saved('1.1.0')]);
    expect(versionsOf(choice.entries)).toEqual(['pneumonia-cxr@1.1.0:server']);
  });

  it('stops offering a model the server retired entirely, and adds models only the server has', () => {
    const server = [item('1.0.0', 'retired'), item('2.0.0', 'active', 'malaria-rdt')];
    const choice = chooseVersions([bundled], server, [saved('2.0.0', 'malaria-rdt')]);
    expect(choice.withdrawn).toEqual(['pneumonia-cxr']);
    expect(versionsOf(choice.entries)).toEqual(['malaria-rdt@2.0.0:server']);
    expect(serverEntry(server[1]!).path).toBe('malaria-rdt/manifest.json');
  });

  it('compares versions as numbers', () => {
    expect(compareVersions('1.10.0', '1.9.3')).toBe(1);
    expect(compareVersions('1.0.0', '1.0.0')).toBe(0);
    expect(compareVersions('0.9.0', '1.0.0')).toBe(-1);
  });
});
