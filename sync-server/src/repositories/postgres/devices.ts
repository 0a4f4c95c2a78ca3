import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { devices, sessions } from '../../db/schema.pg';
import type { DeviceRow } from '../../db/schema';
import type { DevicesRepository } from '../devices.repository';

export class PgDevicesRepository implements DevicesRepository {
  constructor(private readonly db: PgDbOrTx) {}

  async get(deviceId: string) {
    const [row] = await this.db.select().from(devices).where(eq(devices.id, deviceId));
    return row as DeviceRow | undefined;
  }

  // Ties by id in byte order, as SQLite compares text, whatever the database's collation.
  async listByUser(userId: string) {
    const rows = await this.db
      .select()
      .from(devices)
      .where(eq(devices.userId, userId))
      .orderBy(desc(devices.lastSeenAt), asc(sql`${devices.id} collate "C"`));
    return rows as DeviceRow[];
  }

  async contactOf(deviceId: string) {
    const [row] = await this.db
      .select({
        userId: devices.userId,
        revokedAt: devices.revokedAt,
        lastSeenAt: devices.lastSeenAt,
      })
      .from(devices)
      .where(eq(devices.id, deviceId));
    return row;
  }

  async markSeen(deviceId: string, at: Date) {
    await this.db.update(devices).set({ lastSeenAt: at }).where(eq(devices.id, deviceId));
  }

  async revoke(deviceId: string, at: Date, by: string) {
    const rows = await this.db
      .update(devices)
      .set({ revokedAt: at, revokedBy: by })
      .where(and(eq(devices.id, deviceId), isNull(devices.revokedAt)))
      .returning({ id: devices.id });
    return rows.length === 1;
  }

  async endSessions(deviceId: string) {
    const rows = await this.db
      .delete(sessions)
      .where(eq(sessions.deviceId, deviceId))
      .returning({ id: sessions.id });
    return rows.length;
  }
}
