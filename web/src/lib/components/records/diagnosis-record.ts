import type { DiagnosisExplanation, DiagnosisFields, DiagnosisInputs } from '$lib/domain/records';
import type { DiagnosisResult } from '$lib/inference/diagnose.svelte';

/**
 * What a model run becomes in the patient's record: model id and version, the inputs, one
 * probability per label, the explanation, and the model's notice as the clinician saw it.
 */
export function diagnosisFields(
  result: DiagnosisResult,
  inputs: DiagnosisInputs,
  context: { patientId: string; encounterId: string | null },
): DiagnosisFields {
  const { manifest, finding } = result;
  return {
    patientId: context.patientId,
    encounterId: context.encounterId,
    modelId: manifest.id,
    modelVersion: manifest.version,
    modelSha256: manifest.sha256,
    modelName: manifest.name,
    inputs,
    outputs: Object.fromEntries(
      manifest.output.labels.map((label, i) => [label, result.probabilities[i] ?? 0]),
    ),
    positiveLabel: finding.positiveLabel,
    threshold: finding.threshold,
    explanation: explanationOf(result),
    modelNotice: { intendedUse: manifest.intendedUse, limitations: manifest.limitations },
    assessment: null,
    ...(result.warnings.length ? { warnings: result.warnings } : {}),
  };
}

function explanationOf(result: DiagnosisResult): DiagnosisExplanation | null {
  const explanation = result.explanation;
  if (!explanation) return null;
  if (explanation.kind === 'contributions') {
    return {
      kind: 'contributions',
      values: Object.fromEntries(explanation.items.map((item) => [item.key, item.delta])),
    };
  }
  return {
    kind: 'heatmap',
    width: explanation.spec.width,
    height: explanation.spec.height,
    channels: explanation.spec.channels,
    // Pixel values 0–255: whole numbers are exact enough to redraw the input, and small to store.
    input: Array.from(explanation.input, (v) => Math.round(v)),
    values: Array.from(explanation.map, (v) => Math.round(v * 1e5) / 1e5),
    maxAbs: explanation.maxAbs,
  };
}

/** The form's text values as numbers; empty (or unreadable) optional fields are null (missing). */
export function tabularValues(
  texts: Record<string, string>,
  keys: string[],
  notAsked: { key: string; value: number | null }[] = [],
): Record<string, number | null> {
  return Object.fromEntries(
    keys.map((key) => {
      // A field not asked for this patient is saved with the value the model got.
      const skipped = notAsked.find((f) => f.key === key);
      if (skipped) return [key, skipped.value];
      const text = (texts[key] ?? '').trim().replace(',', '.');
      const value = text === '' ? NaN : Number(text);
      return [key, Number.isFinite(value) ? value : null];
    }),
  );
}
