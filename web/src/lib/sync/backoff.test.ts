import { describe, expect, it } from 'vitest';
import { retryDelay } from './backoff';

describe('retryDelay', () => {
  it('doubles up to five minutes, with jitter in the upper half', () => {
    expect(retryDelay(1, () => 0)).toBe(2_500);
    expect(retryDelay(1, () => 1)).toBe(5_000);
    expect(retryDelay(3, () => 1)).toBe(20_000);
    expect(retryDelay(20, () => 1)).toBe(300_000);
    expect(retryDelay(20, () => 0)).toBe(150_000);
  });

  it('never waits less than the first delay', () => {
    expect(retryDelay(0, () => 1)).toBe(5_000);
    expect(retryDelay(0, () => 0)).toBe(2_500);
  });
});
