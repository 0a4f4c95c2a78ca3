import type { ModelPrevalence } from '../protocol';

/** What the services need from model versions and per-team model settings. */
export interface ModelsRepository {
  /** The prevalences set for these teams. */
  prevalencesOf(teamIds: readonly string[]): Promise<ModelPrevalence[]>;
  /** Sets a team's prevalence for a model (insert or update, one statement). */
  setPrevalence(s: {
    teamId: string;
    modelId: string;
    prevalence: number;
    updatedAt: Date;
    updatedBy: string;
  }): Promise<void>;
  clearPrevalence(teamId: string, modelId: string): Promise<void>;
}
