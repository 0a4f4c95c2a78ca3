/**
 * Failed attempts per key (an IP) in a sliding window, in memory: for sign-up, where a failure
 * costs no password hash any more (the code is checked first) but must not be repeated at will.
 * An attempt is reserved before it is checked, so attempts sent at once count each other, and a
 * success withdraws its reservation. The map is pruned as it is used and bounded in size, so a
 * flood of addresses cannot grow it without limit.
 */
export interface AttemptLimiter {
  /** A reservation, or the seconds to wait (Retry-After) when the key is over its limit. */
  reserve(key: string, now: Date): { withdraw(): void } | { retryAfter: number };
}

export function createAttemptLimiter(
  maxFailures: number,
  windowMs: number,
  maxKeys = 10_000,
): AttemptLimiter {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => {
    const list = (failures.get(key) ?? []).filter((t) => t > now - windowMs);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  };
  return {
    reserve(key, at) {
      const now = at.getTime();
      const list = recent(key, now);
      if (list.length >= maxFailures) {
        const oldestThatCounts = list[list.length - maxFailures]!;
        return { retryAfter: Math.max(1, Math.ceil((oldestThatCounts + windowMs - now) / 1000)) };
      }
      if (!failures.has(key) && failures.size >= maxKeys) {
        // Forget the key seen longest ago (Map keeps insertion order).
        failures.delete(failures.keys().next().value!);
      }
      list.push(now);
      failures.set(key, list);
      return {
        withdraw() {
          const current = failures.get(key);
          const i = current?.indexOf(now) ?? -1;
          if (current && i >= 0) current.splice(i, 1);
        },
      };
    },
  };
}
