import { ModelStore } from './model-store';
import { localizedFields, modelText, type ModelText } from './model-text';

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
      return Object.fromEntries(
        localizedFields(manifest, manifest.input.tabular.fields).map((f) => [f.key, f.label]),
      );
    });
    labels.catch(() => cache.delete(key)); // try again next time
    cache.set(key, labels);
  }
  return labels;
}

const cards = new Map<string, Promise<ModelText>>();

/**
 * A saved result's model card words (name, labels, intended use, limitations) in the reader's
 * language, from the manifest of the version that produced it; rejects when it is not at hand.
 */
export function modelCard(modelId: string, version: string): Promise<ModelText> {
  const key = `${modelId}@${version}`;
  let card = cards.get(key);
  if (!card) {
    card = new ModelStore().manifestOf(modelId, version).then((manifest) => modelText(manifest));
    card.catch(() => cards.delete(key));
    cards.set(key, card);
  }
  return card;
}
