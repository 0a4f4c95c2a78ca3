import type { ModelPrevalence } from '../protocol';

/** What the services need from model versions and per-team model settings. */
export interface ModelsRepository {
  /** The prevalences set for these teams. */
  prevalencesOf(teamIds: readonly string[]): Promise<ModelPrevalence[]>;
}
