import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { modelVersions, teamModelSettings, type ModelVersionRow } from '../../db/schema';
import type { ModelStatus } from '../../protocol';
import type { ModelsRepository } from '../models.repository';
import type { SqliteRunner } from './runner';

export class SqliteModelsRepository implements ModelsRepository {
  constructor(private readonly r: SqliteRunner) {}

  prevalencesOf(teamIds: readonly string[]) {
    return this.r.run(() =>
      this.r.db
        .select({
          teamId: teamModelSettings.teamId,
          modelId: teamModelSettings.modelId,
          prevalence: teamModelSettings.prevalence,
        })
        .from(teamModelSettings)
        .where(inArray(teamModelSettings.teamId, [...teamIds]))
        .all(),
    );
  }

  listVersions(filter: { id?: string; statuses?: readonly ModelStatus[] } = {}) {
    const where: SQL[] = [];
    if (filter.id !== undefined) where.push(eq(modelVersions.id, filter.id));
    if (filter.statuses) where.push(inArray(modelVersions.status, [...filter.statuses]));
    return this.r.run(() =>
      this.r.db
        .select()
        .from(modelVersions)
        .where(and(...where))
        // SQLite compares text byte by byte (BINARY), as PostgreSQL's "C" collation does.
        .orderBy(asc(modelVersions.id), asc(modelVersions.createdAt), asc(modelVersions.version))
        .all(),
    );
  }

  getVersion(id: string, version: string) {
    return this.r.run(() =>
      this.r.db
        .select()
        .from(modelVersions)
        .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)))
        .get(),
    );
  }

  insertVersion(row: ModelVersionRow) {
    return this.r.run(
      () =>
        this.r.db
          .insert(modelVersions)
          .values(row)
          .onConflictDoNothing({ target: [modelVersions.id, modelVersions.version] })
          .run().changes > 0,
    );
  }

  lockModel(_id: string) {
    // Nothing to take: a SQLite transaction (BEGIN IMMEDIATE) holds the database's write lock,
    // across processes too, from its start to its end, and the connection's gate in this process.
    return Promise.resolve();
  }

  setActive(id: string, version: string, at: Date) {
    return this.r.run(() => {
      // One statement each, in this order: the partial unique index model_versions_one_active
      // allows one active version per model at any moment.
      this.r.db
        .update(modelVersions)
        .set({ status: 'retired' })
        .where(and(eq(modelVersions.id, id), eq(modelVersions.status, 'active')))
        .run();
      this.r.db
        .update(modelVersions)
        .set({ status: 'active', activatedAt: at })
        .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)))
        .run();
    });
  }

  retire(id: string, version: string) {
    return this.r.run(() => {
      this.r.db
        .update(modelVersions)
        .set({ status: 'retired' })
        .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)))
        .run();
    });
  }

  setPrevalence(s: {
    teamId: string;
    modelId: string;
    prevalence: number;
    updatedAt: Date;
    updatedBy: string;
  }) {
    return this.r.run(() => {
      this.r.db
        .insert(teamModelSettings)
        .values(s)
        .onConflictDoUpdate({
          target: [teamModelSettings.teamId, teamModelSettings.modelId],
          set: { prevalence: s.prevalence, updatedAt: s.updatedAt, updatedBy: s.updatedBy },
        })
        .run();
    });
  }

  clearPrevalence(teamId: string, modelId: string) {
    return this.r.run(() => {
      this.r.db
        .delete(teamModelSettings)
        .where(and(eq(teamModelSettings.teamId, teamId), eq(teamModelSettings.modelId, modelId)))
        .run();
    });
  }
}
