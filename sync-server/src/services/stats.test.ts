import { describe, expect, it } from 'vitest';
import { median, SQL_WEEK, weekNumberToDate, weekOf, wilson } from './stats';

describe('wilson', () => {
  // Reference values: Newcombe (1998), Statistics in Medicine 17:857, table I (method 3), and
  // R's prop.test(k, n, correct = FALSE)$conf.int.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    [29, 29, 0.883, 1],
    [8, 10, 0.4902, 0.9433],
    [5, 10, 0.2366, 0.7634],
  ])('k=%i n=%i -> [%f, %f]', (k, n, low, high) => {
    const w = wilson(k, n);
    expect(w.value).toBeCloseTo(k / n, 10);
    expect(w.low).toBeCloseTo(low, 3);
    expect(w.high).toBeCloseTo(high, 3);
  });

  it('has no value for n = 0 and refuses impossible counts', () => {
    expect(wilson(0, 0)).toEqual({ n: 0, k: 0, value: null, low: null, high: null });
    expect(() => wilson(3, 2)).toThrow(RangeError);
    expect(() => wilson(-1, 2)).toThrow(RangeError);
  });
});

describe('median and weeks', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('names a week by its Monday, in JS and in SQL alike', () => {
    expect(weekOf(Date.parse('2026-01-15T10:00:00Z'))).toBe('2026-01-12'); // a Thursday
    expect(weekOf(Date.parse('2026-01-12T00:00:00Z'))).toBe('2026-01-12');
    expect(weekOf(Date.parse('2026-01-11T23:59:59Z'))).toBe('2026-01-05'); // a Sunday
    const ms = Date.parse('2026-01-18T12:00:00Z');
    const week = Math.floor((Math.floor(ms / 86_400_000) + 3) / 7);
    expect(SQL_WEEK('x')).toBe('((x / 86400000 + 3) / 7)');
    expect(weekNumberToDate(week)).toBe(weekOf(ms));
  });
});
