/** Delay before the next automatic retry after `failures` failed syncs in a row (full jitter). */
export function retryDelay(failures: number, random = Math.random): number {
  const base = 5_000;
  const cap = 5 * 60_000;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
