import { describe, expect, it } from 'vitest';
import { checkTabular, encodeTabular, missingSentence, parseDecimal } from './tabular';
import { tabularManifest } from './manifests.test-helper';

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
