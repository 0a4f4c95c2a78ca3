import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { modelVersions, teamModelSettings } from '../../db/schema.pg';
import type { ModelVersionRow } from '../../db/schema';
import type { ModelStatus } from '../../protocol';
import type { ModelsRepository } from '../models.repository';

export class PgModelsRepository implements ModelsRepository {
  constructor(private readonly db: PgDbOrTx) {}

  prevalencesOf(teamIds: readonly string[]) {
    return this.db
      .select({
        teamId: teamModelSettings.teamId,
        modelId: teamModelSettings.modelId,
        prevalence: teamModelSettings.prevalence,
      })
      .from(teamModelSettings)
      .where(inArray(teamModelSettings.teamId, [...teamIds]));
  }

  async listVersions(filter: { id?: string; statuses?: readonly ModelStatus[] } = {}) {
    const where: SQL[] = [];
    if (filter.id !== undefined) where.push(eq(modelVersions.id, filter.id));
    if (filter.statuses) where.push(inArray(modelVersions.status, [...filter.statuses]));
    const rows = await this.db
      .select()
      .from(modelVersions)
      .where(and(...where))
      // Byte order ("C"), as SQLite compares text, whatever the database's collation.
      .orderBy(
        asc(sql`${modelVersions.id} collate "C"`),
        asc(modelVersions.createdAt),
        asc(sql`${modelVersions.version} collate "C"`),
      );
    return rows as ModelVersionRow[];
  }

  async getVersion(id: string, version: string) {
    const [row] = await this.db
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)));
    return row as ModelVersionRow | undefined;
  }

  async insertVersion(row: ModelVersionRow) {
    // ON CONFLICT DO NOTHING: a concurrent insert of the same version (another instance importing
    // the same bundled model, or two uploads) waits for the other's commit and then inserts nothing.
    const inserted = await this.db
      .insert(modelVersions)
      .values(row)
      .onConflictDoNothing({ target: [modelVersions.id, modelVersions.version] })
      .returning({ id: modelVersions.id });
    return inserted.length > 0;
  }

  async lockModel(id: string) {
    // A transaction-scoped advisory lock on the model's id (a 64-bit hash, namespaced like the
    // attempt limiter's keys), rather than SELECT … FOR UPDATE on its rows: it also holds for a model
    // with no row yet (two instances importing the same new bundled model). A second transaction
    // waits for the first's commit, then reads what it committed (READ COMMITTED takes a new
    // snapshot per statement).
    await this.db.execute(
      sql`SELECT pg_advisory_xact_lock(hashtextextended(${`model_versions\n${id}`}, 0))`,
    );
  }

  async setActive(id: string, version: string, at: Date) {
    // Retire first: the partial unique index model_versions_one_active allows one active version
    // per model at the end of every statement.
    await this.db
      .update(modelVersions)
      .set({ status: 'retired' })
      .where(and(eq(modelVersions.id, id), eq(modelVersions.status, 'active')));
    await this.db
      .update(modelVersions)
      .set({ status: 'active', activatedAt: at })
      .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)));
  }

  async retire(id: string, version: string) {
    await this.db
      .update(modelVersions)
      .set({ status: 'retired' })
      .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)));
  }

  async setPrevalence(s: {
    teamId: string;
    modelId: string;
    prevalence: number;
    updatedAt: Date;
    updatedBy: string;
  }) {
    await this.db
      .insert(teamModelSettings)
      .values(s)
      .onConflictDoUpdate({
        target: [teamModelSettings.teamId, teamModelSettings.modelId],
        set: { prevalence: s.prevalence, updatedAt: s.updatedAt, updatedBy: s.updatedBy },
      });
  }

  async clearPrevalence(teamId: string, modelId: string) {
    await this.db
      .delete(teamModelSettings)
      .where(and(eq(teamModelSettings.teamId, teamId), eq(teamModelSettings.modelId, modelId)));
  }
}
