import { describe, expect, it } from 'vitest';
import { labelFromKey } from './field-labels';

describe('labelFromKey', () => {
  it('reads a field key as words when the manifest is not at hand', () => {
    expect(labelFromKey('diastolic_bp')).toBe('Diastolic bp');
    expect(labelFromKey('triceps-skinfold')).toBe('Triceps skinfold');
  });
});
