import { describe, expect, it } from 'vitest';
import type { DiagnosisResult } from '$lib/inference/diagnose.svelte';
import { diagnosisFields, tabularValues } from './diagnosis-record';

const manifest = {
  id: 'diabetes-risk',
  version: '1.0.0',
  name: 'Diabetes',
  intendedUse: 'Screening aid',
  limitations: 'Pima women only',
  output: { labels: ['no diabetes', 'diabetes'], positive: 'diabetes', threshold: 0.24 },
};

describe('a model run in the record', () => {
  it('keeps model, outputs per label, contributions and the notice', () => {
    const result = {
      manifest,
      probabilities: [0.3, 0.7],
      finding: {
        label: 'diabetes',
        positiveLabel: 'diabetes',
        positiveProbability: 0.7,
        threshold: 0.24,
        positive: true,
      },
      explanation: {
        kind: 'contributions',
        items: [{ key: 'glucose', label: 'Glucose', delta: 0.21, missing: false }],
        ms: 1,
      },
      warnings: [
        'This model was made for women and girls only; its result for this patient is uncertain.',
      ],
    } as unknown as DiagnosisResult;
    const inputs = { kind: 'tabular' as const, values: { glucose: 150, insulin: null } };
    expect(diagnosisFields(result, inputs, { patientId: 'p', encounterId: 'e' })).toEqual({
      patientId: 'p',
      encounterId: 'e',
      modelId: 'diabetes-risk',
      modelVersion: '1.0.0',
      modelName: 'Diabetes',
      inputs,
      outputs: { 'no diabetes': 0.3, diabetes: 0.7 },
      positiveLabel: 'diabetes',
      threshold: 0.24,
      explanation: { kind: 'contributions', values: { glucose: 0.21 } },
      modelNotice: { intendedUse: 'Screening aid', limitations: 'Pima women only' },
      assessment: null,
      // The warning the clinician confirmed before running stays with the result.
      warnings: [
        'This model was made for women and girls only; its result for this patient is uncertain.',
      ],
    });
  });

  it('keeps an occlusion map with the exact model input', () => {
    const result = {
      manifest,
      probabilities: [0.9, 0.1],
      finding: {
        label: 'no diabetes',
        positiveLabel: 'diabetes',
        positiveProbability: 0.1,
        threshold: 0.24,
        positive: false,
      },
      explanation: {
        kind: 'occlusion',
        input: Float32Array.from([0.4, 254.6, 12, 13]),
        spec: { width: 2, height: 2, channels: 1 },
        map: Float32Array.from([0.1234567, -0.2, 0, 0]),
        maxAbs: 0.2,
        ms: 5,
      },
      warnings: [],
    } as unknown as DiagnosisResult;
    const fields = diagnosisFields(
      result,
      { kind: 'image', attachmentId: 'a', sha256: 's' },
      { patientId: 'p', encounterId: null },
    );
    expect(fields.explanation).toEqual({
      kind: 'heatmap',
      width: 2,
      height: 2,
      channels: 1,
      input: [0, 255, 12, 13],
      values: [0.12346, -0.2, 0, 0],
      maxAbs: 0.2,
    });
  });

  it('reads form text as numbers, missing as null', () => {
    expect(
      tabularValues({ glucose: ' 148 ', bmi: '33,6', insulin: '', age: 'x' }, [
        'glucose',
        'bmi',
        'insulin',
        'age',
        'pedigree',
      ]),
    ).toEqual({
      glucose: 148,
      bmi: 33.6,
      insulin: null,
      age: null,
      pedigree: null,
    });
  });

  it('saves a field not asked for this patient with the value the model got', () => {
    const notAsked = [{ key: 'pregnancies', value: 0 }];
    expect(
      tabularValues({ pregnancies: '4', glucose: '150' }, ['pregnancies', 'glucose'], notAsked),
    ).toEqual({ pregnancies: 0, glucose: 150 });
  });
});
