/** Small statistics for the dashboard, pure. */

export interface Interval {
  n: number;
  k: number;
  /** k / n, or null when n = 0. */
  value: number | null;
  low: number | null;
  high: number | null;
}

/**
 * The Wilson score interval of a proportion k/n (95 % with the default z = 1.96): unlike the
 * normal approximation it stays inside [0, 1] and is honest for small n and for k = 0 or k = n.
 */
export function wilson(k: number, n: number, z = 1.959963984540054): Interval {
  if (!Number.isInteger(k) || !Number.isInteger(n) || n < 0 || k < 0 || k > n) {
    throw new RangeError(`wilson: need whole numbers 0 <= k <= n, got k=${k}, n=${n}`);
  }
  if (n === 0) return { n, k, value: null, low: null, high: null };
  const p = k / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return {
    n,
    k,
    value: p,
    low: Math.max(0, centre - half),
    high: Math.min(1, centre + half),
  };
}

/** The median of the values (mean of the middle two for an even count), or null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const DAY_MS = 86_400_000;

/** The Monday (UTC, YYYY-MM-DD) of the week of a moment; 1970-01-01 was a Thursday. */
export function weekOf(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  const monday = Math.floor((day + 3) / 7) * 7 - 3;
  return new Date(monday * DAY_MS).toISOString().slice(0, 10);
}

/** The week number of a moment (weeks start on Monday, UTC), as SQL_WEEK computes it. */
export const weekNumber = (ms: number) => Math.floor((Math.floor(ms / DAY_MS) + 3) / 7);

/** The same week number as weekOf, in SQL over an integer ms column (for GROUP BY). */
export const SQL_WEEK = (column: string) => `((${column} / ${DAY_MS} + 3) / 7)`;

/** The Monday of a week number from SQL_WEEK. */
export const weekNumberToDate = (week: number) =>
  new Date((week * 7 - 3) * DAY_MS).toISOString().slice(0, 10);
