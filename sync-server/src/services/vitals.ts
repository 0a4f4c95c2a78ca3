/**
 * Abnormal vitals for the patient's age: the tablet's rules (web/src/lib/domain/vitals.ts
 * flagVitals), repeated here because the server flags them for the review queue and the two
 * packages share only the protocol. Keep both in step.
 */
export interface VitalFlag {
  level: 'warning' | 'danger';
  message: string;
}

export type VitalValues = Record<string, number | null | undefined>;

function fastBreathing(ageMonths: number): number {
  if (ageMonths < 2) return 60;
  if (ageMonths < 12) return 50;
  if (ageMonths < 60) return 40;
  if (ageMonths < 144) return 30;
  return 21;
}

function pulseRange(ageMonths: number): [number, number] {
  if (ageMonths < 12) return [100, 160];
  if (ageMonths < 60) return [80, 140];
  if (ageMonths < 144) return [70, 120];
  return [50, 100];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function flagVitals(
  vitals: VitalValues,
  ageMonths: number | null,
): Record<string, VitalFlag> {
  const flags: Record<string, VitalFlag> = {};
  const t = num(vitals.temperatureC);
  if (t !== null) {
    if (t >= 39) flags.temperatureC = { level: 'danger', message: 'High fever' };
    else if (t >= 37.5) flags.temperatureC = { level: 'warning', message: 'Fever' };
    else if (t < 35.5) flags.temperatureC = { level: 'danger', message: 'Hypothermia' };
  }
  const spo2 = num(vitals.spo2);
  if (spo2 !== null) {
    if (spo2 < 90) flags.spo2 = { level: 'danger', message: 'Severe hypoxaemia' };
    else if (spo2 < 94) flags.spo2 = { level: 'warning', message: 'Low oxygen saturation' };
  }
  if (ageMonths !== null) {
    const rr = num(vitals.respiratoryRate);
    if (rr !== null) {
      const limit = fastBreathing(ageMonths);
      if (rr >= limit) {
        flags.respiratoryRate = {
          level: 'warning',
          message: `Fast breathing for age (≥ ${limit})`,
        };
      } else if (ageMonths >= 144 && rr < 12) {
        flags.respiratoryRate = { level: 'warning', message: 'Slow breathing' };
      }
    }
    const pulse = num(vitals.pulseBpm);
    if (pulse !== null) {
      const [low, high] = pulseRange(ageMonths);
      if (pulse > high)
        flags.pulseBpm = { level: 'warning', message: `Fast pulse for age (> ${high})` };
      else if (pulse < low)
        flags.pulseBpm = { level: 'warning', message: `Slow pulse for age (< ${low})` };
    }
    const muac = num(vitals.muacMm);
    if (muac !== null && ageMonths >= 6 && ageMonths < 60) {
      if (muac < 115)
        flags.muacMm = { level: 'danger', message: 'Severe acute malnutrition (< 115 mm)' };
      else if (muac < 125)
        flags.muacMm = { level: 'warning', message: 'Moderate acute malnutrition (< 125 mm)' };
    }
    if (ageMonths >= 216) {
      const sys = num(vitals.systolicBp);
      const dia = num(vitals.diastolicBp);
      if (sys !== null && sys >= 140)
        flags.systolicBp = { level: 'warning', message: 'High blood pressure' };
      else if (sys !== null && sys < 90)
        flags.systolicBp = { level: 'danger', message: 'Low blood pressure' };
      if (dia !== null && dia >= 90)
        flags.diastolicBp = { level: 'warning', message: 'High blood pressure' };
    }
  }
  return flags;
}

/** Whole months from an ISO birth date to an ISO date (null when either is missing or odd). */
export function ageInMonths(birthDate: string | null | undefined, at: string): number | null {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}/.test(birthDate) || !/^\d{4}-\d{2}-\d{2}/.test(at))
    return null;
  const [by, bm, bd] = birthDate.slice(0, 10).split('-').map(Number) as [number, number, number];
  const [y, m, d] = at.slice(0, 10).split('-').map(Number) as [number, number, number];
  const months = (y - by) * 12 + (m - bm) - (d < bd ? 1 : 0);
  return months >= 0 ? months : null;
}
