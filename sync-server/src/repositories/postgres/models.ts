import { and, eq, inArray } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { teamModelSettings } from '../../db/schema.pg';
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
