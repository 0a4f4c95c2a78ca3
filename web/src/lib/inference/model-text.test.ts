import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Manifest, ManifestTranslation } from 'sync-server/protocol';
import { localizedFields, modelText } from './model-text';

const models = fileURLToPath(new URL('../../../../models/', import.meta.url));
const settings = fileURLToPath(new URL('../../../project.inlang/settings.json', import.meta.url));
/** Every language of the app but English (the manifests' own words). */
const otherLocales: string[] = JSON.parse(readFileSync(settings, 'utf8')).locales.filter(
  (l: string) => l !== 'en',
);
const bundled = (): Manifest[] =>
  readdirSync(models, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'i18n')
    .map((d) =>
      Manifest.parse(JSON.parse(readFileSync(`${models}${d.name}/manifest.json`, 'utf8'))),
    );
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

  it('gives units and the validation set in the reader language, English where not translated', () => {
    const manifest = {
      ...base,
      metrics: { split: 'val' },
      translations: { fr: { units: { age: 'ans' }, split: 'de validation' } },
    };
    const fields = [
      { key: 'age', label: 'Age', unit: 'years' },
      { key: 'glucose', label: 'Glucose', unit: 'mg/dL' },
      { key: 'score', label: 'Score', unit: '' },
    ];
    expect(localizedFields(manifest, fields, 'fr').map((f) => f.unit)).toEqual([
      'ans',
      'mg/dL',
      '',
    ]);
    expect(localizedFields(manifest, fields, 'en').map((f) => f.unit)).toEqual([
      'years',
      'mg/dL',
      '',
    ]);
    expect(modelText(manifest, 'fr').split).toBe('de validation');
    expect(modelText(manifest, 'pt').split).toBe('val');
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
        expect(t.intendedUse && t.limitations && t.name && t.split).toBeTruthy();
        const withUnit =
          manifest.modality === 'tabular'
            ? manifest.input.tabular.fields.filter((f) => f.unit).map((f) => f.key)
            : [];
        expect(Object.keys(t.units ?? {}).sort()).toEqual([...withUnit].sort());
      }
      expect(Object.keys(translations).sort()).toEqual(['fr', 'pt']);
    });
  }
});

describe('bundled manifests in every language of the app', () => {
  // What the form and the result show: a word left in English here is what a French or
  // Portuguese clinician reads ("Âge (years)").
  for (const manifest of bundled()) {
    for (const locale of otherLocales) {
      it(`${manifest.id} has no English unit, label or validation set in ${locale}`, () => {
        const t = manifest.translations?.[locale];
        expect(t, `translations.${locale}`).toBeDefined();
        const text = modelText(manifest, locale);
        expect(text.split).toBe(t?.split);
        if (manifest.modality !== 'tabular') return;
        for (const field of localizedFields(manifest, manifest.input.tabular.fields, locale)) {
          expect(field.label, `${field.key} label`).toBe(t?.fields?.[field.key]);
          if (field.unit) expect(field.unit, `${field.key} unit`).toBe(t?.units?.[field.key]);
        }
      });
    }
  }

  it('writes the diabetes form age in years as the language does', () => {
    const diabetes = bundled().find((m) => m.id === 'diabetes-risk');
    if (diabetes?.modality !== 'tabular') throw new Error('diabetes-risk is a tabular model');
    const age = (locale: string) =>
      localizedFields(diabetes, diabetes.input.tabular.fields, locale).find((f) => f.key === 'age');
    expect(age('fr')).toMatchObject({ label: 'Âge', unit: 'ans' });
    expect(age('pt')).toMatchObject({ label: 'Idade', unit: 'anos' });
    expect(age('en')).toMatchObject({ label: 'Age', unit: 'years' });
  });
});
