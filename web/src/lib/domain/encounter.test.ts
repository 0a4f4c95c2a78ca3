import { describe, expect, it } from 'vitest';
import { encounterToForm, parseDecimal, parseEncounterForm } from './encounter';
import { EMPTY_VITALS } from './records';

const today = new Date('2026-11-26T10:00:00Z');
const blank = encounterToForm({
  date: '2026-11-26',
  complaint: '',
  vitals: EMPTY_VITALS,
  symptoms: [],
  notes: '',
});

describe('encounter form', () => {
  it('reads decimals with a comma or a point', () => {
    expect(parseDecimal('37,5')).toBe(37.5);
    expect(parseDecimal(' 37.5 ')).toBe(37.5);
    expect(parseDecimal('')).toBeNull();
    expect(parseDecimal('abc')).toBeNaN();
  });

  it('accepts a visit with some vitals missing', () => {
    const form = {
      ...blank,
      complaint: ' Cough ',
      vitals: { ...blank.vitals, temperatureC: '38,2' },
    };
    expect(parseEncounterForm(form, today)).toMatchObject({
      ok: true,
      value: { complaint: 'Cough', vitals: { temperatureC: 38.2, pulseBpm: null } },
    });
  });

  it('names every bad field', () => {
    const form = {
      ...blank,
      date: '2026-12-01',
      vitals: { ...blank.vitals, temperatureC: '375', pulseBpm: 'fast' },
    };
    const result = parseEncounterForm(form, today);
    expect(result).toEqual({
      ok: false,
      errors: {
        date: 'Visit date is in the future',
        temperatureC: 'Temperature must be between 30 and 45 °C',
        pulseBpm: 'Pulse must be a number',
      },
    });
  });

  it('round-trips a saved encounter', () => {
    const vitals = { ...EMPTY_VITALS, spo2: 97 };
    const form = encounterToForm({
      date: '2026-11-20',
      complaint: 'x',
      vitals,
      symptoms: ['Fever'],
      notes: 'n',
    });
    expect(parseEncounterForm(form, today)).toMatchObject({
      ok: true,
      value: { vitals: { spo2: 97 }, symptoms: ['Fever'] },
    });
  });
});
