/**
 * A model card's words in the reader's language: the manifest's `translations` for that language
 * (sync-server/src/protocol/manifest.ts), the English fields for anything it lacks.
 */
import type { Manifest, ManifestTranslation } from 'sync-server/protocol';
import { getLocale } from '$lib/paraglide/runtime';

type CardSource = Pick<Manifest, 'name' | 'intendedUse' | 'limitations' | 'translations'> & {
  eligibility?: Manifest['eligibility'];
  metrics?: Pick<Manifest['metrics'], 'split'>;
};

/** The translation for a locale ("pt-BR" falls back to "pt"), or none. */
function translationFor(manifest: CardSource, locale: string): ManifestTranslation {
  const all = manifest.translations ?? {};
  return all[locale] ?? all[locale.split('-')[0]!] ?? {};
}

export interface ModelText {
  name: string;
  intendedUse: string;
  limitations: string;
  imageKind: string | undefined;
  /** An output label ("pneumonia") as the reader says it. */
  label(label: string): string;
  /** A form field's label, given its key and English label. */
  field(key: string, english: string): string;
  /** A form field's unit, given its key and English unit ("years" → "ans"). */
  unit(key: string, english: string): string;
  /** The validation set's name (metrics.split). */
  split: string;
}

export function modelText(manifest: CardSource, locale: string = getLocale()): ModelText {
  const t = translationFor(manifest, locale);
  return {
    name: t.name ?? manifest.name,
    intendedUse: t.intendedUse ?? manifest.intendedUse,
    limitations: t.limitations ?? manifest.limitations,
    imageKind: t.imageKind ?? manifest.eligibility?.imageKind,
    label: (label) => t.labels?.[label] ?? label,
    field: (key, english) => t.fields?.[key] ?? english,
    unit: (key, english) => (english ? (t.units?.[key] ?? english) : english),
    split: t.split ?? manifest.metrics?.split ?? '',
  };
}

/** A tabular form's fields with their labels and units in the reader's language (keys and ranges kept). */
export function localizedFields<F extends { key: string; label: string; unit?: string }>(
  manifest: CardSource,
  fields: readonly F[],
  locale: string = getLocale(),
): F[] {
  const text = modelText(manifest, locale);
  return fields.map((field) => ({
    ...field,
    label: text.field(field.key, field.label),
    ...(field.unit === undefined ? {} : { unit: text.unit(field.key, field.unit) }),
  }));
}
