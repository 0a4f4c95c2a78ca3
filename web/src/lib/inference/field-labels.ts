import { ModelStore } from './model-store';

/** "diastolic_bp" → "Diastolic bp": a readable name when the model's description is not at hand. */
export function labelFromKey(key: string): string {
  const spaced = key.replace(/[_-]+/g, ' ').trim();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

const cache = new Map<string, Promise<Record<string, string>>>();

/**
 * The labels a model's form gives its fields (key → "Diastolic blood pressure"), read from the
 * model's manifest (precached with the app, so offline too). A saved result keeps only the keys.
 */
export function fieldLabels(modelId: string, version?: string): Promise<Record<string, string>> {
  const key = `${modelId}@${version ?? ''}`;
  let labels = cache.get(key);
  if (!labels) {
    labels = new ModelStore().manifestOf(modelId, version).then((manifest) => {
      if (manifest.modality !== 'tabular') return {};
      return Object.fromEntries(manifest.input.tabular.fields.map((f) => [f.key, f.label]));
    });
    labels.catch(() => cache.delete(key)); // try again next time
    cache.set(key, labels);
  }
  return labels;
}
