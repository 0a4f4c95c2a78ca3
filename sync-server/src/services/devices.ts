import type { DeviceRow } from '../db/schema';
import { ApiError } from '../errors';
import type { Repositories, TxRepositories } from '../repositories';
import { CLEAR_SITE_DATA, type DeviceSummary } from '../protocol';
import { writeAudit, type Actor } from './audit';

/*
 * Lost and stolen devices (issue 15): a user sees their devices and revokes another one; an admin
 * sees and revokes anyone's. A revoked device's sessions end, and every later call naming it is
 * refused with 403 device_revoked and Clear-Site-Data, on which the app wipes itself.
 */

/** The refusal every call naming a revoked device gets; the browser clears the site's data. */
export const deviceRevoked = () =>
  new ApiError(
    403,
    'device_revoked',
    'This device was revoked: its data and keys are being erased. Sign in again to use it.',
    { 'Clear-Site-Data': CLEAR_SITE_DATA },
  );

/** "Chrome 131 on Android" from a User-Agent; null when nothing is recognised. */
export function userAgentSummary(ua: string | undefined): string | null {
  if (!ua) return null;
  const browser =
    match(ua, /\bEdg(?:A|iOS)?\/(\d+)/, 'Edge') ??
    match(ua, /\b(?:OPR|Opera)\/(\d+)/, 'Opera') ??
    match(ua, /\bSamsungBrowser\/(\d+)/, 'Samsung Internet') ??
    match(ua, /\b(?:Firefox|FxiOS)\/(\d+)/, 'Firefox') ??
    match(ua, /\b(?:HeadlessChrome|Chrome|CriOS|Chromium)\/(\d+)/, 'Chrome') ??
    match(ua, /\bVersion\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//, 'Safari');
  const os = /\bAndroid\b/.test(ua)
    ? 'Android'
    : /\b(?:iPad|iPhone|iPod)\b/.test(ua)
      ? 'iOS'
      : /\bWindows\b/.test(ua)
        ? 'Windows'
        : /\bCrOS\b/.test(ua)
          ? 'ChromeOS'
          : /\bMac OS X\b/.test(ua)
            ? 'macOS'
            : /\bLinux\b/.test(ua)
              ? 'Linux'
              : null;
  if (!browser && !os) return null;
  if (!browser) return os;
  return os ? `${browser} on ${os}` : browser;
}

function match(ua: string, pattern: RegExp, name: string): string | null {
  const m = pattern.exec(ua);
  return m ? `${name} ${m[1]}` : null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toSummary(row: DeviceRow, currentId: string | null): DeviceSummary {
  return {
    id: row.id,
    userId: row.userId,
    userAgent: row.userAgent,
    createdAt: row.createdAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    lastSyncAt: iso(row.lastSyncAt),
    revokedAt: iso(row.revokedAt),
    current: row.id === currentId,
  };
}

/** The devices a user has synced from, most recently seen first. */
export async function listDevices(
  repos: Pick<TxRepositories, 'devices'>,
  userId: string,
  currentId: string | null,
): Promise<DeviceSummary[]> {
  return (await repos.devices.listByUser(userId)).map((row) => toSummary(row, currentId));
}

export interface RevokeOptions {
  /** An admin may revoke any device; anyone else only one of their own. */
  asAdmin: boolean;
  /** The device the request comes from: a user signs out of it instead of revoking it. */
  currentId: string | null;
}

/**
 * Revokes a device and ends its sessions, in one transaction; audited. Revoking twice is
 * harmless (the first time stands). Someone else's device is "not found" to a non-admin.
 */
export async function revokeDevice(
  repos: Repositories,
  deviceId: string,
  actor: Actor & { userId: string },
  { asAdmin, currentId }: RevokeOptions,
): Promise<DeviceSummary> {
  return repos.transaction(async (tx) => {
    const row = await tx.devices.get(deviceId);
    if (!row || (!asAdmin && row.userId !== actor.userId)) {
      throw new ApiError(404, 'not_found', 'Device not found');
    }
    if (row.id === currentId) {
      throw new ApiError(
        400,
        'invalid_request',
        'This is the device you are using: sign out of it instead',
      );
    }
    if (row.revokedAt) return toSummary(row, currentId);
    // A conditional UPDATE (… WHERE revoked_at IS NULL): of two revocations at once on
    // PostgreSQL, the second finds it done and answers the first one's, unaudited.
    if (!(await tx.devices.revoke(deviceId, actor.at, actor.userId))) {
      return toSummary((await tx.devices.get(deviceId)) ?? row, currentId);
    }
    const revoked = { ...row, revokedAt: actor.at, revokedBy: actor.userId };
    const ended = await tx.devices.endSessions(deviceId);
    await writeAudit(tx, actor, 'device.revoke', deviceId, {
      ownerId: row.userId,
      byAdmin: row.userId !== actor.userId,
      sessionsEnded: ended,
    });
    return toSummary(revoked, currentId);
  });
}

export const SEEN_RESOLUTION_MS = 60_000;

/**
 * Every API call that names a device (header x-device-id): refused when the device is revoked
 * (whoever calls, signed in or not, so a revoked tablet learns it at its next contact even after
 * its session ended); otherwise a known device of the caller is noted as seen, at most once a
 * minute, so that "last seen" is true without a write on every request.
 */
export async function deviceContact(
  repos: Pick<TxRepositories, 'devices'>,
  deviceId: string,
  userId: string | null,
  now: Date,
): Promise<void> {
  const row = await repos.devices.contactOf(deviceId);
  if (!row) return;
  if (row.revokedAt) throw deviceRevoked();
  if (row.userId === userId && now.getTime() - row.lastSeenAt.getTime() >= SEEN_RESOLUTION_MS) {
    await repos.devices.markSeen(deviceId, now);
  }
}
