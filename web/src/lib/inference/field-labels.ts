import { manifestUrl, parseManifest } from './manifest';

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
export function fieldLabels(modelId: string): Promise<Record<string, string>> {
  let labels = cache.get(modelId);
  if (!labels) {
    labels = fetch(manifestUrl({ path: `${modelId}/manifest.json` }))
      .then((response) => {
        if (!response.ok) throw new Error(`No description for model ${modelId}`);
        return response.json();
      })
      .then((json) => {
        const manifest = parseManifest(json, modelId);
        if (manifest.modality !== 'tabular') return {};
        return Object.fromEntries(manifest.input.tabular.fields.map((f) => [f.key, f.label]));
      });
    labels.catch(() => cache.delete(modelId)); // try again next time
    cache.set(modelId, labels);
  }
  return labels;
}
