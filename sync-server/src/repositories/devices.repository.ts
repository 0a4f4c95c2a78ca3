import type { DeviceRow } from '../db/schema';

/** What a call naming a device needs to know of it (middleware/device-gate.ts). */
export interface DeviceContact {
  userId: string;
  revokedAt: Date | null;
  lastSeenAt: Date;
}

/** What the services need from devices a user synced from, and their revocation. */
export interface DevicesRepository {
  get(deviceId: string): Promise<DeviceRow | undefined>;
  /** The user's devices, most recently seen first (then by id). */
  listByUser(userId: string): Promise<DeviceRow[]>;
  contactOf(deviceId: string): Promise<DeviceContact | undefined>;
  markSeen(deviceId: string, at: Date): Promise<void>;
  /**
   * Revokes the device unless it is revoked already (one conditional UPDATE … WHERE revoked_at IS
   * NULL): false when it was, so two revocations at once keep the first.
   */
  revoke(deviceId: string, at: Date, by: string): Promise<boolean>;
  /**
   * Ends the sessions that synced from the device: how many. (The sessions table is the accounts
   * repository's; this one statement lives here so that revocation needs nothing else.)
   */
  endSessions(deviceId: string): Promise<number>;
}
