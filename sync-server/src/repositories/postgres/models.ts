import { inArray } from 'drizzle-orm';
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
}
