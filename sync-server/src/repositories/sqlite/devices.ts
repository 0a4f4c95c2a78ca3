import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/connection';
import { devices, sessions } from '../../db/schema';
import type { DevicesRepository } from '../devices.repository';
import type { SqliteRunner } from './runner';

// Read on every request that names a device (middleware/device-gate.ts): prepared once per
// connection.
const prepareContact = (db: Db) =>
  db
    .select({
      userId: devices.userId,
      revokedAt: devices.revokedAt,
      lastSeenAt: devices.lastSeenAt,
    })
    .from(devices)
    .where(eq(devices.id, sql.placeholder('deviceId')))
    .prepare();
const contactStatements = new WeakMap<Db, ReturnType<typeof prepareContact>>();

export class SqliteDevicesRepository implements DevicesRepository {
  constructor(private readonly r: SqliteRunner) {}

  get(deviceId: string) {
    return this.r.run(() => this.r.db.select().from(devices).where(eq(devices.id, deviceId)).get());
  }

  listByUser(userId: string) {
    return this.r.run(() =>
      this.r.db
        .select()
        .from(devices)
        .where(eq(devices.userId, userId))
        .orderBy(desc(devices.lastSeenAt), asc(devices.id))
        .all(),
    );
  }

  contactOf(deviceId: string) {
    let statement = contactStatements.get(this.r.db);
    if (!statement) contactStatements.set(this.r.db, (statement = prepareContact(this.r.db)));
    const s = statement;
    return this.r.run(() => s.get({ deviceId }));
  }

  markSeen(deviceId: string, at: Date) {
    return this.r.run(() => {
      this.r.db.update(devices).set({ lastSeenAt: at }).where(eq(devices.id, deviceId)).run();
    });
  }

  revoke(deviceId: string, at: Date, by: string) {
    return this.r.run(
      () =>
        this.r.db
          .update(devices)
          .set({ revokedAt: at, revokedBy: by })
          .where(and(eq(devices.id, deviceId), isNull(devices.revokedAt)))
          .run().changes === 1,
    );
  }

  endSessions(deviceId: string) {
    return this.r.run(
      () => this.r.db.delete(sessions).where(eq(sessions.deviceId, deviceId)).run().changes,
    );
  }
}
