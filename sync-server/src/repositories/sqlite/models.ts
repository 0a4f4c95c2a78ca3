import { inArray } from 'drizzle-orm';
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
}
