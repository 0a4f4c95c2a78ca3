import { and, eq, inArray } from 'drizzle-orm';
import { teamModelSettings } from '../../db/schema';
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
