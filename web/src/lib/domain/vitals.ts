import { m } from '$lib/paraglide/messages';
import { formatNumber } from '$lib/i18n/format';
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
  { key: 'temperatureC', label: m.vital_temperature(), unit: '°C', min: 30, max: 45, step: 0.1 },
  { key: 'pulseBpm', label: m.vital_pulse(), unit: m.unit_beats_min(), min: 20, max: 250, step: 1 },
  {
    key: 'respiratoryRate',
    label: m.vital_respiratory_rate(),
    unit: m.unit_breaths_min(),
    min: 4,
    max: 120,
    step: 1,
  },
  { key: 'spo2', label: m.vital_spo2(), unit: '%', min: 50, max: 100, step: 1 },
  { key: 'systolicBp', label: m.vital_systolic(), unit: 'mmHg', min: 40, max: 300, step: 1 },
  {
    key: 'diastolicBp',
    label: m.vital_diastolic(),
    unit: 'mmHg',
    min: 20,
    max: 200,
    step: 1,
  },
  { key: 'weightKg', label: m.vital_weight(), unit: 'kg', min: 0.3, max: 350, step: 0.1 },
  { key: 'heightCm', label: m.vital_height(), unit: 'cm', min: 20, max: 250, step: 0.1 },
  { key: 'muacMm', label: m.vital_muac(), unit: 'mm', min: 50, max: 500, step: 1 },
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
      errors[field.key] = m.vital_out_of_range({
        label: field.label,
        min: formatNumber(field.min),
        max: formatNumber(field.max),
        unit: field.unit,
      });
    }
  }
  if (
    vitals.systolicBp !== null &&
    vitals.diastolicBp !== null &&
    vitals.diastolicBp >= vitals.systolicBp
  ) {
    errors.diastolicBp = m.vital_diastolic_above();
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
    if (t >= 39) flags.temperatureC = { level: 'danger', message: m.flag_high_fever() };
    else if (t >= 37.5) flags.temperatureC = { level: 'warning', message: m.flag_fever() };
    else if (t < 35.5) flags.temperatureC = { level: 'danger', message: m.flag_hypothermia() };
  }
  if (vitals.spo2 !== null) {
    if (vitals.spo2 < 90) flags.spo2 = { level: 'danger', message: m.flag_severe_hypoxaemia() };
    else if (vitals.spo2 < 94) flags.spo2 = { level: 'warning', message: m.flag_low_spo2() };
  }
  if (ageMonths !== null) {
    if (vitals.respiratoryRate !== null) {
      const limit = fastBreathing(ageMonths);
      if (vitals.respiratoryRate >= limit) {
        flags.respiratoryRate = {
          level: 'warning',
          message: m.flag_fast_breathing({ limit }),
        };
      } else if (ageMonths >= 144 && vitals.respiratoryRate < 12) {
        flags.respiratoryRate = { level: 'warning', message: m.flag_slow_breathing() };
      }
    }
    if (vitals.pulseBpm !== null) {
      const [low, high] = pulseRange(ageMonths);
      if (vitals.pulseBpm > high)
        flags.pulseBpm = { level: 'warning', message: m.flag_fast_pulse({ high }) };
      else if (vitals.pulseBpm < low)
        flags.pulseBpm = { level: 'warning', message: m.flag_slow_pulse({ low }) };
    }
    if (vitals.muacMm !== null && ageMonths >= 6 && ageMonths < 60) {
      if (vitals.muacMm < 115) flags.muacMm = { level: 'danger', message: m.flag_sam() };
      else if (vitals.muacMm < 125) flags.muacMm = { level: 'warning', message: m.flag_mam() };
    }
    if (ageMonths >= 216) {
      if (vitals.systolicBp !== null && vitals.systolicBp >= 140) {
        flags.systolicBp = { level: 'warning', message: m.flag_high_bp() };
      } else if (vitals.systolicBp !== null && vitals.systolicBp < 90) {
        flags.systolicBp = { level: 'danger', message: m.flag_low_bp() };
      }
      if (vitals.diastolicBp !== null && vitals.diastolicBp >= 90) {
        flags.diastolicBp = { level: 'warning', message: m.flag_high_bp() };
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

/** Symptoms are kept in English on the records; each reader sees them in their language. */
const SYMPTOM_LABELS: Record<(typeof SYMPTOMS)[number], () => string> = {
  Cough: m.symptom_cough,
  'Difficulty breathing': m.symptom_difficulty_breathing,
  Fever: m.symptom_fever,
  Diarrhoea: m.symptom_diarrhoea,
  Vomiting: m.symptom_vomiting,
  'Unable to drink or feed': m.symptom_unable_to_drink,
  Convulsions: m.symptom_convulsions,
  Lethargy: m.symptom_lethargy,
  'Chest pain': m.symptom_chest_pain,
  Headache: m.symptom_headache,
  Rash: m.symptom_rash,
  'Excessive thirst': m.symptom_excessive_thirst,
  'Frequent urination': m.symptom_frequent_urination,
  'Weight loss': m.symptom_weight_loss,
  'Night sweats': m.symptom_night_sweats,
};

/** A recorded symptom in the reader's language (one the list does not know is shown as kept). */
export function symptomLabel(symptom: string): string {
  return SYMPTOM_LABELS[symptom as (typeof SYMPTOMS)[number]]?.() ?? symptom;
}

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
  const list = signs.map((sign) => symptomLabel(sign).toLocaleLowerCase()).join(', ');
  return m.danger_sentence({ count: signs.length, list });
}
