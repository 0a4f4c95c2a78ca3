import { describe, expect, it } from 'vitest';
import {
  ManifestError,
  manifestUrl,
  modelFileUrl,
  modelKey,
  parseCatalogue,
  parseManifest,
} from './manifest';
import { imageManifestJson, tabularManifestJson } from './manifests.test-helper';

describe('parseManifest', () => {
  it('accepts an image and a tabular manifest', () => {
    const image = parseManifest(imageManifestJson);
    expect(image.modality).toBe('image');
    if (image.modality === 'image') expect(image.input.image.channels).toBe(1);
    const tabular = parseManifest(tabularManifestJson);
    expect(tabular.modality === 'tabular' && tabular.input.tabular.fields).toHaveLength(3);
  });

  it.each([
    ['a missing sha256', { sha256: undefined }, /sha256/],
    ['a short sha256', { sha256: 'abc' }, /sha256: must be 64/],
    ['an unknown modality', { modality: 'audio' }, /modality/],
    [
      'a positive label that is not a label',
      { output: { ...imageManifestJson.output, positive: 'x' } },
      /positive/,
    ],
    [
      'a threshold above 1',
      { output: { ...imageManifestJson.output, threshold: 1.5 } },
      /threshold/,
    ],
    ['a file outside the model folder', { file: '../../etc/passwd.onnx' }, /file/],
    ['a schema version from the future', { schemaVersion: 2 }, /schemaVersion/],
    [
      'an NHWC image',
      { input: { image: { ...imageManifestJson.input.image, layout: 'NHWC' } } },
      /layout/,
    ],
    ['no intended use', { intendedUse: '' }, /intendedUse/],
  ])('refuses %s with a message that names the field', (_what, patch, pattern) => {
    const bad = { ...imageManifestJson, ...patch };
    expect(() => parseManifest(bad)).toThrow(ManifestError);
    expect(() => parseManifest(bad)).toThrow(pattern);
  });

  it('refuses tabular fields with duplicate keys or an inverted range', () => {
    const fields = tabularManifestJson.input.tabular.fields;
    const dup = {
      ...tabularManifestJson,
      input: { tabular: { tensor: 'f', fields: [fields[0], fields[0]] } },
    };
    expect(() => parseManifest(dup)).toThrow(/unique/);
    const inverted = {
      ...tabularManifestJson,
      input: { tabular: { tensor: 'f', fields: [{ ...fields[0], min: 5, max: 1 }] } },
    };
    expect(() => parseManifest(inverted)).toThrow(/min must not be above max/);
  });

  it('refuses a manifest for another model than the catalogue says', () => {
    expect(() => parseManifest(imageManifestJson, 'diabetes-risk')).toThrow(/not "diabetes-risk"/);
  });

  it('refuses what is not JSON object at all', () => {
    expect(() => parseManifest('<html>')).toThrow(ManifestError);
    expect(() => parseManifest(null)).toThrow(ManifestError);
  });
});

describe('catalogue', () => {
  const entry = {
    id: 'pneumonia-cxr',
    version: '1.0.0',
    name: 'Pneumonia',
    modality: 'image',
    task: 'binary-classification',
    path: 'pneumonia-cxr/manifest.json',
    bytes: 10,
    source: 'bundled' as const,
  };

  it('accepts a bare list or { models }', () => {
    expect(parseCatalogue([entry])).toHaveLength(1);
    expect(parseCatalogue({ models: [entry] })).toHaveLength(1);
  });

  it('refuses a path outside the models folder', () => {
    expect(() => parseCatalogue([{ ...entry, path: '../secret/manifest.json' }])).toThrow(/path/);
  });

  it('builds same-origin URLs and a key that changes with the file', () => {
    const m = parseManifest(imageManifestJson);
    expect(manifestUrl(entry)).toBe('/models/pneumonia-cxr/manifest.json');
    expect(modelFileUrl(m)).toBe('/models/pneumonia-cxr/model.onnx');
    // A version from the server's catalogue comes from the API, under its version.
    expect(manifestUrl({ ...entry, source: 'server' })).toBe(
      '/api/models/pneumonia-cxr/1.0.0/manifest.json',
    );
    expect(modelFileUrl(m, 'server')).toBe(`/api/models/pneumonia-cxr/${m.version}/model.onnx`);
    expect(modelKey(m)).not.toBe(modelKey({ ...m, sha256: 'b'.repeat(64) }));
  });
});
