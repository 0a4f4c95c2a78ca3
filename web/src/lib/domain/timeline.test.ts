import { describe, expect, it } from 'vitest';
import { buildTimeline, createdAt } from './timeline';
import type { Diagnosis, Encounter, Report } from './records';

describe('timeline', () => {
  it('reads the creation time out of a UUIDv7', () => {
    expect(createdAt('019ac2a0-0000-7000-8000-000000000000', 'x')).toBe(
      new Date(0x019ac2a00000).toISOString(),
    );
    expect(createdAt('not-a-uuid', '2026-01-01T00:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
  });

  it('puts the newest first across kinds', () => {
    const encounter = { id: 'e', date: '2026-03-01' } as Encounter;
    const diagnosis = { id: 'd', updatedAt: '2026-03-02T00:00:00.000Z' } as Diagnosis;
    const report = { id: 'r', updatedAt: '2026-02-01T00:00:00.000Z' } as Report;
    expect(buildTimeline([encounter], [diagnosis], [report]).map((e) => e.kind)).toEqual([
      'diagnosis',
      'encounter',
      'report',
    ]);
  });
});
