import { describe, expect, it } from 'vitest';
import {
  checkTabular,
  encodeTabular,
  fieldsNotAsked,
  missingSentence,
  notAskedSentence,
  parseDecimal,
} from './tabular';
import { Manifest, type TabularManifest } from './manifest';
import { tabularManifest, tabularManifestJson } from './manifests.test-helper';

const fields = tabularManifest.input.tabular.fields;

describe('parseDecimal', () => {
  it('reads numbers with a decimal point or comma', () => {
    expect(parseDecimal(' 12.5 ')).toBe(12.5);
    expect(parseDecimal('12,5')).toBe(12.5);
    expect(parseDecimal('-3')).toBe(-3);
    expect(parseDecimal('.5')).toBe(0.5);
  });
  it('tells empty from invalid', () => {
    expect(parseDecimal('  ')).toBeNull();
    for (const bad of ['abc', '1e5', '1.2.3', '12 mg', 'NaN', 'Infinity'])
      expect(parseDecimal(bad)).toBe('invalid');
  });
});

describe('checkTabular', () => {
  it('accepts values in range and an empty optional field', () => {
    const { values, issues } = checkTabular(fields, { glucose: '120', insulin: '', age: '33' });
    expect(issues).toEqual([]);
    expect(values).toEqual([120, null, 33]);
  });

  it('flags a missing required field, a non-number and an out-of-range value', () => {
    const { issues } = checkTabular(fields, { glucose: '', insulin: 'lots', age: '130' });
    expect(issues.map((i) => i.key)).toEqual(['glucose', 'insulin', 'age']);
    expect(issues[0]!.message).toBe('Glucose is required.');
    expect(issues[1]!.message).toMatch(/enter a number/);
    expect(issues[2]!.message).toBe(
      'Age: 130 is outside the plausible range 10–100 years. Check the value.',
    );
  });

  it('accepts the range bounds themselves', () => {
    expect(checkTabular(fields, { glucose: '40', age: '100', insulin: '900' }).issues).toEqual([]);
  });
});

describe('encodeTabular', () => {
  it('writes values in field order with NaN for missing optional fields, and lists them', () => {
    const { row, missing } = encodeTabular(fields, [120, null, 33]);
    expect(row).toBeInstanceOf(Float32Array);
    expect(row[0]).toBe(120);
    expect(Number.isNaN(row[1])).toBe(true);
    expect(row[2]).toBe(33);
    expect(missing).toEqual(['Insulin']);
    expect(missingSentence(missing)).toBe('Computed without: Insulin');
    expect(missingSentence([])).toBeNull();
  });

  it('never encodes a missing required field', () => {
    expect(() => encodeTabular(fields, [null, 1, 33])).toThrow(/Glucose is required/);
    expect(() => encodeTabular(fields, [1, 2])).toThrow();
  });
});

describe('fields that do not apply to the patient', () => {
  // As the diabetes model's manifest has it: pregnancies asked of female patients and of those whose
  // sex is other or not recorded; for a man the model gets 0.
  const pima = Manifest.parse({
    ...tabularManifestJson,
    input: {
      tabular: {
        tensor: 'features',
        fields: [
          {
            key: 'pregnancies',
            label: 'Number of pregnancies',
            unit: 'count',
            min: 0,
            max: 20,
            required: false,
            notApplicableValue: 0,
          },
          ...tabularManifestJson.input.tabular.fields,
        ],
      },
    },
    eligibility: { sex: ['female'], fieldsBySex: { pregnancies: ['female', 'other', 'unknown'] } },
  }) as TabularManifest;
  const pimaFields = pima.input.tabular.fields;

  it('keeps notApplicableValue through the manifest contract', () => {
    expect(pimaFields[0]!.notApplicableValue).toBe(0);
  });

  it('does not ask a man for his pregnancies and feeds the documented 0', () => {
    const notAsked = fieldsNotAsked(pimaFields, pima.eligibility, 'male');
    expect(notAsked).toEqual([
      {
        key: 'pregnancies',
        label: 'Number of pregnancies',
        value: 0,
        appliesTo: ['female', 'other', 'unknown'],
      },
    ]);
    // Whatever the hidden field holds (a prefilled or stale text) is neither checked nor used.
    const { values, issues } = checkTabular(
      pimaFields,
      { pregnancies: 'lots', glucose: '150', age: '65' },
      notAsked,
    );
    expect(issues).toEqual([]);
    expect(values).toEqual([0, 150, null, 65]);
    const { row, missing } = encodeTabular(pimaFields, values);
    expect(Array.from(row)).toEqual([0, 150, NaN, 65]);
    expect(missing).toEqual(['Insulin']); // 0 pregnancies is a value, not a missing one
    expect(notAskedSentence(notAsked)).toBe(
      'Not asked for this patient: Number of pregnancies (asked only for female, other, unknown patients; 0 used).',
    );
  });

  it('asks everyone the manifest lists, and everyone when no patient is known', () => {
    for (const sex of ['female', 'other', 'unknown', null, undefined])
      expect(fieldsNotAsked(pimaFields, pima.eligibility, sex)).toEqual([]);
    expect(fieldsNotAsked(pimaFields, undefined, 'male')).toEqual([]);
    expect(notAskedSentence([])).toBeNull();
  });

  it('sends a not-applicable field without a documented value as missing, and never hides a required one', () => {
    const noValue = pimaFields.map(({ notApplicableValue: _, ...f }) => f);
    const [preg] = fieldsNotAsked(noValue, pima.eligibility, 'male');
    expect(preg?.value).toBeNull();
    expect(notAskedSentence([preg!])).toMatch(/sent as not measured/);
    const requiredGlucose = {
      sex: ['female' as const],
      fieldsBySex: { glucose: ['female' as const] },
    };
    expect(fieldsNotAsked(noValue, requiredGlucose, 'male')).toEqual([]);
  });
});
