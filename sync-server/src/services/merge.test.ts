import { describe, expect, it } from 'vitest';
import { changedFields, checkPolicy, isDeleted, jsonEqual, merge, type RecordData } from './merge';

const meta = {
  id: 'p1',
  teamId: 't1',
  version: 3,
  updatedAt: '2026-01-01T00:00:00Z',
  updatedBy: 'u',
};
const rec = (fields: RecordData): RecordData => ({ ...meta, deleted: false, ...fields });

const BASE = rec({
  givenName: 'Amina',
  village: 'Kibera',
  phone: '',
  vitals: { pulse: 80, temp: 37 },
  identifiers: [{ kind: 'NID', value: '1' }],
});

describe('jsonEqual', () => {
  it.each<[unknown, unknown, boolean]>([
    [1, 1, true],
    [1, '1', false],
    [null, null, true],
    [null, undefined, false],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true], // key order ignored
    [{ a: 1, b: undefined }, { a: 1 }, true], // a missing key equals undefined
    [{ a: 1 }, { a: 1, b: null }, false],
    [[1, 2], [2, 1], false], // arrays are ordered
    [[{ x: [1] }], [{ x: [1] }], true],
    [[], {}, false],
    [{ a: { b: { c: 1 } } }, { a: { b: { c: 2 } } }, false],
    // Found by mutation testing (docs/mutation-testing.md): null against an object, and a key
    // present but undefined on one side against a value on the other.
    [{}, null, false],
    [{ a: 1 }, null, false],
    [{ a: undefined }, { a: 1 }, false],
  ])('jsonEqual(%j, %j) = %s', (a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
    expect(jsonEqual(b, a)).toBe(expected);
  });
});

describe('isDeleted', () => {
  it('is true only for a record flagged deleted; no record is not deleted', () => {
    expect(isDeleted(rec({ deleted: true }))).toBe(true);
    expect(isDeleted(rec({}))).toBe(false);
    expect(isDeleted({})).toBe(false);
    expect(isDeleted(null)).toBe(false);
  });
});

describe('changedFields', () => {
  it('ignores meta fields and treats a missing deleted flag as false', () => {
    const a = rec({ x: 1 });
    const b = { ...a, version: 9, updatedAt: 'later', updatedBy: 'other' };
    delete (b as RecordData).deleted;
    expect(changedFields(a, b)).toEqual([]);
    expect(changedFields(a, { ...a, x: 2, deleted: true }).sort()).toEqual(['deleted', 'x']);
  });
});

type Case = {
  name: string;
  base: RecordData | null;
  server: RecordData;
  device: RecordData;
  kind: 'merged' | 'conflict';
  /** Expected content of the result (meta fields aside): a partial check of the listed fields. */
  expect: RecordData;
  fields?: string[];
};

const CASES: Case[] = [
  {
    name: 'nothing changed anywhere',
    base: BASE,
    server: BASE,
    device: BASE,
    kind: 'merged',
    expect: { village: 'Kibera', phone: '' },
  },
  {
    name: 'only the device changed: its edit wins',
    base: BASE,
    server: BASE,
    device: { ...BASE, village: 'Mathare' },
    kind: 'merged',
    expect: { village: 'Mathare' },
  },
  {
    name: 'only the server changed: the server stays',
    base: BASE,
    server: { ...BASE, village: 'Mathare' },
    device: BASE,
    kind: 'merged',
    expect: { village: 'Mathare' },
  },
  {
    name: 'disjoint edits are both kept',
    base: BASE,
    server: { ...BASE, village: 'Mathare' },
    device: { ...BASE, phone: '+254700' },
    kind: 'merged',
    expect: { village: 'Mathare', phone: '+254700' },
  },
  {
    name: 'the same edit on both sides is no conflict',
    base: BASE,
    server: { ...BASE, village: 'Mathare' },
    device: { ...BASE, village: 'Mathare' },
    kind: 'merged',
    expect: { village: 'Mathare' },
  },
  {
    name: 'overlapping edits conflict and keep the server value',
    base: BASE,
    server: { ...BASE, village: 'Mathare' },
    device: { ...BASE, village: 'Kawangware' },
    kind: 'conflict',
    fields: ['village'],
    expect: { village: 'Mathare' },
  },
  {
    name: 'an overlap does not drop the device’s disjoint edits',
    base: BASE,
    server: { ...BASE, village: 'Mathare', givenName: 'Amina W.' },
    device: { ...BASE, village: 'Kawangware', phone: '+254700' },
    kind: 'conflict',
    fields: ['village'],
    expect: { village: 'Mathare', givenName: 'Amina W.', phone: '+254700' },
  },
  {
    name: 'several overlapping fields are all listed, sorted',
    base: BASE,
    server: { ...BASE, village: 'A', phone: '1' },
    device: { ...BASE, village: 'B', phone: '2' },
    kind: 'conflict',
    fields: ['phone', 'village'],
    expect: { village: 'A', phone: '1' },
  },
  {
    name: 'nested objects are compared whole: sub-field edits on both sides conflict',
    base: BASE,
    server: { ...BASE, vitals: { pulse: 90, temp: 37 } },
    device: { ...BASE, vitals: { pulse: 80, temp: 38.5 } },
    kind: 'conflict',
    fields: ['vitals'],
    expect: { vitals: { pulse: 90, temp: 37 } },
  },
  {
    name: 'the same nested value with other key order is no change',
    base: BASE,
    server: BASE,
    device: { ...BASE, vitals: { temp: 37, pulse: 80 } },
    kind: 'merged',
    expect: { vitals: { pulse: 80, temp: 37 } },
  },
  {
    name: 'arrays are compared whole',
    base: BASE,
    server: {
      ...BASE,
      identifiers: [
        { kind: 'NID', value: '1' },
        { kind: 'Clinic', value: '7' },
      ],
    },
    device: { ...BASE, identifiers: [] },
    kind: 'conflict',
    fields: ['identifiers'],
    expect: {
      identifiers: [
        { kind: 'NID', value: '1' },
        { kind: 'Clinic', value: '7' },
      ],
    },
  },
  {
    name: 'a new field on the device is merged',
    base: BASE,
    server: { ...BASE, village: 'Mathare' },
    device: { ...BASE, nickname: 'Mina' },
    kind: 'merged',
    expect: { village: 'Mathare', nickname: 'Mina' },
  },
  {
    name: 'a new field on both sides with different values conflicts',
    base: BASE,
    server: { ...BASE, nickname: 'Ami' },
    device: { ...BASE, nickname: 'Mina' },
    kind: 'conflict',
    fields: ['nickname'],
    expect: { nickname: 'Ami' },
  },
  {
    name: 'a field the device removed is removed',
    base: { ...BASE, nickname: 'Mina' },
    server: { ...BASE, nickname: 'Mina', village: 'Mathare' },
    device: BASE,
    kind: 'merged',
    expect: { nickname: undefined, village: 'Mathare' },
  },
  {
    name: 'meta fields never conflict',
    base: BASE,
    server: { ...BASE, version: 7, updatedAt: 'x', updatedBy: 'a', village: 'Mathare' },
    device: { ...BASE, version: 3, updatedAt: 'y', updatedBy: 'b', phone: '9' },
    kind: 'merged',
    expect: { village: 'Mathare', phone: '9', version: 7, updatedBy: 'a' },
  },
  {
    name: 'delete against an unchanged server is merged (the record is deleted)',
    base: BASE,
    server: { ...BASE, version: 4 },
    device: { ...BASE, deleted: true },
    kind: 'merged',
    expect: { deleted: true },
  },
  {
    name: 'delete against a server edit is a conflict; the record stays',
    base: BASE,
    server: { ...BASE, village: 'Mathare' },
    device: { ...BASE, deleted: true },
    kind: 'conflict',
    fields: ['deleted'],
    expect: { deleted: false, village: 'Mathare' },
  },
  {
    name: 'edit against a server delete is a conflict; the tombstone stays (edit kept in it)',
    base: BASE,
    server: { ...BASE, deleted: true },
    device: { ...BASE, phone: '+254700' },
    kind: 'conflict',
    fields: ['deleted'],
    expect: { deleted: true, phone: '+254700' },
  },
  {
    name: 'delete against delete is no conflict',
    base: BASE,
    server: { ...BASE, deleted: true },
    device: { ...BASE, deleted: true },
    kind: 'merged',
    expect: { deleted: true },
  },
  {
    name: 'delete against delete plus disjoint edits merges the edits',
    base: BASE,
    server: { ...BASE, deleted: true, village: 'Mathare' },
    device: { ...BASE, deleted: true, phone: '1' },
    kind: 'merged',
    expect: { deleted: true, village: 'Mathare', phone: '1' },
  },
  {
    name: 'a delete with a disjoint edit against a server edit: edit merged, delete conflicts',
    base: BASE,
    server: { ...BASE, village: 'Mathare' },
    device: { ...BASE, deleted: true, phone: '1' },
    kind: 'conflict',
    fields: ['deleted'],
    expect: { deleted: false, village: 'Mathare', phone: '1' },
  },
  {
    name: 'undelete on the device while the server edited the tombstone: both kept',
    base: { ...BASE, deleted: true },
    server: { ...BASE, deleted: true, village: 'Mathare' },
    device: { ...BASE, deleted: false },
    kind: 'merged',
    expect: { deleted: false, village: 'Mathare' },
  },
  {
    name: 'a missing deleted flag means not deleted',
    base: (({ deleted: _d, ...r }) => r)(BASE),
    server: BASE,
    device: { ...BASE, village: 'X' },
    kind: 'merged',
    expect: { deleted: false, village: 'X' },
  },
  {
    name: 'unknown base (same id made on two devices): equal fields merge, different conflict',
    base: null,
    server: { ...BASE, village: 'Mathare' },
    device: { ...BASE, phone: '+254700' },
    kind: 'conflict',
    fields: ['phone', 'village'],
    expect: { village: 'Mathare', phone: '' },
  },
  {
    name: 'unknown base with identical content merges',
    base: null,
    server: BASE,
    device: { ...BASE, version: 0, updatedBy: 'x' },
    kind: 'merged',
    expect: { village: 'Kibera' },
  },
  {
    name: 'unknown base: fields only the device has are merged',
    base: null,
    server: BASE,
    device: { ...BASE, nickname: 'Mina' },
    kind: 'merged',
    expect: { nickname: 'Mina' },
  },
];

describe('merge', () => {
  it.each(CASES)('$name', (c) => {
    const before = JSON.stringify([c.base, c.server, c.device]);
    const result = merge(c.base, c.server, c.device);
    expect(result.kind).toBe(c.kind);
    if (result.kind === 'conflict') expect(result.fields).toEqual(c.fields);
    for (const [k, v] of Object.entries(c.expect)) {
      if (v === undefined) expect(result.record).not.toHaveProperty(k);
      else expect(result.record[k], k).toEqual(v);
    }
    // Pure: the inputs are untouched.
    expect(JSON.stringify([c.base, c.server, c.device])).toBe(before);
  });

  it('keeps the server meta fields (the caller sets them on write)', () => {
    const r = merge(BASE, { ...BASE, version: 5 }, { ...BASE, version: 3, phone: '1' });
    expect(r.record).toMatchObject({ version: 5, updatedBy: 'u', phone: '1' });
  });

  it('never loses a device edit: each changed field is in the result or listed as conflicting', () => {
    for (const c of CASES) {
      const r = merge(c.base, c.server, c.device);
      const changed = changedFields(c.base ?? {}, c.device);
      for (const k of changed) {
        const kept =
          k === 'deleted'
            ? (r.record.deleted === true) === (c.device.deleted === true)
            : jsonEqual(r.record[k], c.device[k]);
        const listed = r.kind === 'conflict' && r.fields.includes(k);
        expect(kept || listed, `${c.name}: ${k}`).toBe(true);
      }
    }
  });
});

describe('checkPolicy', () => {
  const diag = rec({
    modelId: 'm',
    outputs: { a: 0.2, b: 0.8 },
    inputs: { kind: 'tabular', values: { x: 1 } },
    assessment: null,
  });
  const assessment = { verdict: 'agree', note: '', at: '2026-01-01T00:00:00Z', by: 'u' };

  it.each<
    [
      string,
      'diagnoses' | 'reviews' | 'comments' | 'patients',
      RecordData | null,
      RecordData,
      string,
    ]
  >([
    ['a new diagnosis', 'diagnoses', null, diag, 'ok'],
    ['an assessment-only edit', 'diagnoses', diag, { ...diag, assessment }, 'ok'],
    ['a diagnosis delete', 'diagnoses', diag, { ...diag, deleted: true }, 'ok'],
    [
      'a diagnosis with meta-only changes',
      'diagnoses',
      diag,
      { ...diag, version: 9, updatedAt: 'x' },
      'ok',
    ],
    [
      'changed outputs',
      'diagnoses',
      diag,
      { ...diag, outputs: { a: 0.9, b: 0.1 } },
      'reject:immutable',
    ],
    [
      'changed inputs and assessment',
      'diagnoses',
      diag,
      { ...diag, assessment, inputs: {} },
      'reject:immutable',
    ],
    [
      'a new field on a saved diagnosis',
      'diagnoses',
      diag,
      { ...diag, extra: 1 },
      'reject:immutable',
    ],
    ['a new review', 'reviews', null, rec({ verdict: 'approved' }), 'ok'],
    ['a new review as a tombstone', 'reviews', null, rec({ deleted: true }), 'reject:append_only'],
    [
      'the same review again',
      'reviews',
      rec({ verdict: 'approved' }),
      rec({ verdict: 'approved', version: 0 }),
      'unchanged',
    ],
    [
      'a changed review',
      'reviews',
      rec({ verdict: 'approved' }),
      rec({ verdict: 'disagree' }),
      'reject:append_only',
    ],
    [
      'a deleted review',
      'reviews',
      rec({ verdict: 'approved' }),
      rec({ verdict: 'approved', deleted: true }),
      'reject:append_only',
    ],
    ['any patient edit', 'patients', rec({ a: 1 }), rec({ a: 2 }), 'ok'],
    ['a new comment', 'comments', null, rec({ body: 'hi' }), 'ok'],
    [
      'a changed comment',
      'comments',
      rec({ body: 'hi' }),
      rec({ body: 'bye' }),
      'reject:append_only',
    ],
  ])('%s → %s', (_name, table, current, device, expected) => {
    const v = checkPolicy(table, current, device);
    expect(v.kind === 'reject' ? `reject:${v.code}` : v.kind).toBe(expected);
    if (v.kind === 'reject') expect(v.reason.length).toBeGreaterThan(10);
  });

  it('names the immutable fields a diagnosis edit changed', () => {
    const v = checkPolicy('diagnoses', diag, { ...diag, modelId: 'n', outputs: {} });
    expect(v).toMatchObject({
      kind: 'reject',
      reason: expect.stringContaining('modelId, outputs'),
    });
  });
});
