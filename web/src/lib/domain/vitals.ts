import type { Vitals } from './records';

export interface VitalField {
  key: keyof Vitals;
  label: string;
  unit: string;
  /** Values outside [min, max] are refused as typing errors. */
  min: number;
  max: number;
  step: number;
}

export const VITAL_FIELDS: readonly VitalField[] = [
  { key: 'temperatureC', label: 'Temperature', unit: '°C', min: 30, max: 45, step: 0.1 },
  { key: 'pulseBpm', label: 'Pulse', unit: 'beats/min', min: 20, max: 250, step: 1 },
  {
    key: 'respiratoryRate',
    label: 'Respiratory rate',
    unit: 'breaths/min',
    min: 4,
    max: 120,
    step: 1,
  },
  { key: 'spo2', label: 'SpO2', unit: '%', min: 50, max: 100, step: 1 },
  { key: 'systolicBp', label: 'Systolic blood pressure', unit: 'mmHg', min: 40, max: 300, step: 1 },
  {
    key: 'diastolicBp',
    label: 'Diastolic blood pressure',
    unit: 'mmHg',
    min: 20,
    max: 200,
    step: 1,
  },
  { key: 'weightKg', label: 'Weight', unit: 'kg', min: 0.3, max: 350, step: 0.1 },
  { key: 'heightCm', label: 'Height', unit: 'cm', min: 20, max: 250, step: 0.1 },
  { key: 'muacMm', label: 'MUAC', unit: 'mm', min: 50, max: 500, step: 1 },
];

export interface VitalFlag {
  level: 'warning' | 'danger';
  message: string;
}

/** Values outside the plausible range, worded for the form. */
export function implausibleVitals(vitals: Vitals): Partial<Record<keyof Vitals, string>> {
  const errors: Partial<Record<keyof Vitals, string>> = {};
  for (const field of VITAL_FIELDS) {
    const value = vitals[field.key];
    if (value === null) continue;
    if (!Number.isFinite(value) || value < field.min || value > field.max) {
      errors[field.key] =
        `${field.label} must be between ${field.min} and ${field.max} ${field.unit}`;
    }
  }
  if (
    vitals.systolicBp !== null &&
    vitals.diastolicBp !== null &&
    vitals.diastolicBp >= vitals.systolicBp
  ) {
    errors.diastolicBp = 'Diastolic pressure must be lower than systolic';
  }
  return errors;
}

/** Respiratory rate at or above which breathing is fast (WHO IMCI cut-offs for children). */
function fastBreathing(ageMonths: number): number {
  if (ageMonths < 2) return 60;
  if (ageMonths < 12) return 50;
  if (ageMonths < 60) return 40;
  if (ageMonths < 144) return 30;
  return 21;
}

/** Normal resting pulse range by age. */
function pulseRange(ageMonths: number): [number, number] {
  if (ageMonths < 12) return [100, 160];
  if (ageMonths < 60) return [80, 140];
  if (ageMonths < 144) return [70, 120];
  return [50, 100];
}

/**
 * Flags vitals that are abnormal for the patient's age (in months; null when unknown, then adult
 * cut-offs are not assumed for age-dependent signs). Guidance for attention, not a diagnosis.
 */
export function flagVitals(
  vitals: Vitals,
  ageMonths: number | null,
): Partial<Record<keyof Vitals, VitalFlag>> {
  const flags: Partial<Record<keyof Vitals, VitalFlag>> = {};
  const t = vitals.temperatureC;
  if (t !== null) {
    if (t >= 39) flags.temperatureC = { level: 'danger', message: 'High fever' };
    else if (t >= 37.5) flags.temperatureC = { level: 'warning', message: 'Fever' };
    else if (t < 35.5) flags.temperatureC = { level: 'danger', message: 'Hypothermia' };
  }
  if (vitals.spo2 !== null) {
    if (vitals.spo2 < 90) flags.spo2 = { level: 'danger', message: 'Severe hypoxaemia' };
    else if (vitals.spo2 < 94) flags.spo2 = { level: 'warning', message: 'Low oxygen saturation' };
  }
  if (ageMonths !== null) {
    if (vitals.respiratoryRate !== null) {
      const limit = fastBreathing(ageMonths);
      if (vitals.respiratoryRate >= limit) {
        flags.respiratoryRate = {
          level: 'warning',
          message: `Fast breathing for age (≥ ${limit})`,
        };
      } else if (ageMonths >= 144 && vitals.respiratoryRate < 12) {
        flags.respiratoryRate = { level: 'warning', message: 'Slow breathing' };
      }
    }
    if (vitals.pulseBpm !== null) {
      const [low, high] = pulseRange(ageMonths);
      if (vitals.pulseBpm > high)
        flags.pulseBpm = { level: 'warning', message: `Fast pulse for age (> ${high})` };
      else if (vitals.pulseBpm < low)
        flags.pulseBpm = { level: 'warning', message: `Slow pulse for age (< ${low})` };
    }
    if (vitals.muacMm !== null && ageMonths >= 6 && ageMonths < 60) {
      if (vitals.muacMm < 115)
        flags.muacMm = { level: 'danger', message: 'Severe acute malnutrition (< 115 mm)' };
      else if (vitals.muacMm < 125)
        flags.muacMm = { level: 'warning', message: 'Moderate acute malnutrition (< 125 mm)' };
    }
    if (ageMonths >= 216) {
      if (vitals.systolicBp !== null && vitals.systolicBp >= 140) {
        flags.systolicBp = { level: 'warning', message: 'High blood pressure' };
      } else if (vitals.systolicBp !== null && vitals.systolicBp < 90) {
        flags.systolicBp = { level: 'danger', message: 'Low blood pressure' };
      }
      if (vitals.diastolicBp !== null && vitals.diastolicBp >= 90) {
        flags.diastolicBp = { level: 'warning', message: 'High blood pressure' };
      }
    }
  }
  return flags;
}

export const SYMPTOMS = [
  'Cough',
  'Difficulty breathing',
  'Fever',
  'Diarrhoea',
  'Vomiting',
  'Unable to drink or feed',
  'Convulsions',
  'Lethargy',
  'Chest pain',
  'Headache',
  'Rash',
  'Excessive thirst',
  'Frequent urination',
  'Weight loss',
  'Night sweats',
] as const;

/**
 * WHO IMCI general danger signs among the symptoms: any one needs urgent attention or referral,
 * whatever else the visit shows.
 */
export const GENERAL_DANGER_SIGNS: readonly string[] = [
  'Unable to drink or feed',
  'Convulsions',
  'Lethargy',
];

/** The general danger signs among a visit's symptoms, in the list's order. */
export function dangerSigns(symptoms: readonly string[]): string[] {
  return GENERAL_DANGER_SIGNS.filter((sign) => symptoms.includes(sign));
}

/** The sentence that announces them, or null when there is none. */
export function dangerSentence(symptoms: readonly string[]): string | null {
  const signs = dangerSigns(symptoms);
  if (signs.length === 0) return null;
  const list = signs.join(', ').toLowerCase();
  return `Danger sign${signs.length > 1 ? 's' : ''}: ${list}. Treat or refer urgently.`;
}
