import { ageAt } from './patient';
import type { Encounter, PatientFields } from './records';

/**
 * Values a visit already holds, under the field keys model manifests use. A model's form takes
 * whichever of its fields appear here; the clinician sees and can change every pre-filled value.
 */
export function visitValues(
  patient: Pick<PatientFields, 'birthDate'> | undefined,
  encounter: Pick<Encounter, 'date' | 'vitals'> | undefined,
): Record<string, number> {
  const values: Record<string, number> = {};
  const day = encounter ? new Date(`${encounter.date}T12:00:00Z`) : new Date();
  if (patient?.birthDate) values.age = ageAt(patient.birthDate, day).years;
  const v = encounter?.vitals;
  if (!v) return values;
  const put = (key: string, value: number | null) => {
    if (value !== null) values[key] = value;
  };
  put('temperature', v.temperatureC);
  put('pulse', v.pulseBpm);
  put('respiratory_rate', v.respiratoryRate);
  put('spo2', v.spo2);
  put('systolic_bp', v.systolicBp);
  put('diastolic_bp', v.diastolicBp);
  put('weight', v.weightKg);
  put('height', v.heightCm);
  put('muac', v.muacMm);
  if (v.weightKg !== null && v.heightCm !== null && v.heightCm > 0) {
    values.bmi = Math.round((v.weightKg / (v.heightCm / 100) ** 2) * 10) / 10;
  }
  return values;
}
