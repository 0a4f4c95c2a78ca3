import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Manifest, ManifestTranslation } from 'sync-server/protocol';
import { modelText } from './model-text';

const models = fileURLToPath(new URL('../../../../models/', import.meta.url));
const base = {
  name: 'Pneumonia on a chest X-ray',
  intendedUse: 'Decision support',
  limitations: 'Children only',
  eligibility: { imageKind: 'chest X-ray' },
};

describe('modelText', () => {
  it('gives the words of the reader language, English for what is not translated', () => {
    const manifest = {
      ...base,
      translations: { fr: { name: 'Pneumonie', labels: { pneumonia: 'pneumonie' } } },
    };
    const fr = modelText(manifest, 'fr');
    expect(fr.name).toBe('Pneumonie');
    expect(fr.intendedUse).toBe('Decision support');
    expect(fr.label('pneumonia')).toBe('pneumonie');
    expect(fr.label('normal')).toBe('normal');
    expect(fr.imageKind).toBe('chest X-ray');
    expect(modelText(manifest, 'fr-CA').name).toBe('Pneumonie');
    expect(modelText(manifest, 'en').name).toBe('Pneumonia on a chest X-ray');
    expect(modelText(base, 'pt').field('age', 'Age')).toBe('Age');
  });

  it('is accepted by the manifest schema, which refuses a malformed language tag', () => {
    const manifest = JSON.parse(readFileSync(`${models}diabetes-risk/manifest.json`, 'utf8'));
    expect(
      Manifest.safeParse({ ...manifest, translations: { fr: { name: 'Diabète' } } }).success,
    ).toBe(true);
    expect(
      Manifest.safeParse({ ...manifest, translations: { French: { name: 'x' } } }).success,
    ).toBe(false);
  });
});

describe('models/i18n (translated model cards, merged into manifests by scripts/merge-model-card-i18n.mjs)', () => {
  for (const file of readdirSync(`${models}i18n`).filter((f) => f.endsWith('.json'))) {
    it(`${file} translates only labels and fields its model has, in valid shape`, () => {
      const { id, translations } = JSON.parse(readFileSync(`${models}i18n/${file}`, 'utf8'));
      const manifest = Manifest.parse(
        JSON.parse(readFileSync(`${models}${id}/manifest.json`, 'utf8')),
      );
      const keys =
        manifest.modality === 'tabular' ? manifest.input.tabular.fields.map((f) => f.key) : [];
      for (const [, translation] of Object.entries(translations)) {
        const t = ManifestTranslation.parse(translation);
        expect(Object.keys(t.labels ?? {}).sort()).toEqual([...manifest.output.labels].sort());
        expect(Object.keys(t.fields ?? {}).sort()).toEqual([...keys].sort());
        expect(t.intendedUse && t.limitations && t.name).toBeTruthy();
      }
      expect(Object.keys(translations).sort()).toEqual(['fr', 'pt']);
    });
  }
});
