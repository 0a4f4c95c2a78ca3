// The sign-up limiter in detail (the routes' tests send bursts; these pin the window, the wait it
// answers and the bound on its memory). Written to kill mutants that survived those tests.
import { describe, expect, it } from 'vitest';
import { createAttemptLimiter } from './attempt-limiter';

const at = (ms: number) => new Date(ms);
const refused = (r: object) => ('retryAfter' in r ? r.retryAfter : null);

describe('createAttemptLimiter', () => {
  it('refuses past the limit in the window, says how long to wait, and forgets what left the window', () => {
    const limiter = createAttemptLimiter(3, 60_000);
    for (const t of [0, 1_000, 2_000]) expect(refused(limiter.reserve('ip', at(t)))).toBeNull();
    // The oldest attempt that counts (t=0) leaves the window at 60 s.
    expect(refused(limiter.reserve('ip', at(10_000)))).toBe(50);
    expect(refused(limiter.reserve('ip', at(59_999)))).toBe(1);
    // At exactly 60 s the attempt at 0 no longer counts.
    expect(refused(limiter.reserve('ip', at(60_000)))).toBeNull();
    expect(refused(limiter.reserve('ip', at(60_000)))).toBe(1); // 1 000, 2 000, 60 000 count
    expect(refused(limiter.reserve('other', at(60_000)))).toBeNull();
  });

  it('a withdrawn reservation (a success) frees its place', () => {
    const limiter = createAttemptLimiter(1, 60_000);
    const first = limiter.reserve('ip', at(0));
    expect(refused(first)).toBeNull();
    expect(refused(limiter.reserve('ip', at(1)))).toBe(60);
    (first as { withdraw(): void }).withdraw();
    expect(refused(limiter.reserve('ip', at(2)))).toBeNull();
  });

  it('holds at most maxKeys addresses, forgetting the one seen longest ago', () => {
    const limiter = createAttemptLimiter(1, 60_000, 2);
    expect(refused(limiter.reserve('a', at(0)))).toBeNull();
    expect(refused(limiter.reserve('b', at(0)))).toBeNull();
    expect(refused(limiter.reserve('a', at(1)))).not.toBeNull(); // two keys fit: a is kept
    expect(refused(limiter.reserve('c', at(2)))).toBeNull(); // a third: a is forgotten
    expect(refused(limiter.reserve('b', at(3)))).not.toBeNull();
    expect(refused(limiter.reserve('a', at(4)))).toBeNull();
  });

  it('drops an address whose attempts all left the window, so it does not hold a place', () => {
    const limiter = createAttemptLimiter(1, 60_000, 2);
    limiter.reserve('a', at(0));
    limiter.reserve('b', at(61_000));
    limiter.reserve('a', at(61_000)); // a's old attempt expired: a is new again, after b
    limiter.reserve('c', at(61_000)); // full: the one seen longest ago, b, is forgotten
    expect(refused(limiter.reserve('a', at(61_001)))).not.toBeNull();
    expect(refused(limiter.reserve('b', at(61_001)))).toBeNull();
  });
});
