import { DEFAULT_LOCK_MINUTES, LOCK_MINUTES_MAX, LOCK_MINUTES_MIN } from 'sync-server/protocol';

export { DEFAULT_LOCK_MINUTES };

/**
 * Milliseconds idle or hidden before the app locks, from the signed-in profile (online from
 * /me, offline from its cached copy): the team setting, already the shortest of the user's teams.
 * A profile cached by an older version has none (the default); a value out of range, which the
 * server never sends, is held to the range rather than trusted to disable the lock.
 */
export function lockDelayMs(me: { lockMinutes?: number } | null | undefined): number {
  const minutes = me?.lockMinutes;
  if (minutes === undefined || !Number.isFinite(minutes)) return DEFAULT_LOCK_MINUTES * 60_000;
  return Math.min(LOCK_MINUTES_MAX, Math.max(LOCK_MINUTES_MIN, Math.round(minutes))) * 60_000;
}
