/** What the server benchmarks push: ~1 KB patients. */

/** Patient `i` of `teamId`, as a device sends it: ~1 KB of JSON. */
export function benchPatient(i: number, teamId: string, { version = 0, updatedBy = 'bench' } = {}) {
  return {
    id: `0192f0c8-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    teamId,
    version,
    updatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString(),
    updatedBy,
    deleted: false,
    givenName: `Given${i}`,
    familyName: `Family${i}`,
    sex: i % 2 ? 'female' : 'male',
    birthDate: '1990-04-01',
    birthDateEstimated: false,
    village: 'Village '.repeat(60).slice(0, 480) + i, // pads the record to ~1 KB of JSON
    phone: '+254700000000',
    identifiers: [{ kind: 'National ID', value: `ID-${i}` }],
  };
}

/** The push mutation that creates patient `i` (mutation id `m-i`). */
export function benchCreation(i: number, teamId: string, updatedBy = 'bench') {
  const data = benchPatient(i, teamId, { updatedBy });
  return { mutationId: `m-${i}`, table: 'patients', id: data.id, baseVersion: 0, op: 'put', data };
}
