import type { ModelVersionRow } from '../db/schema';
import type { ModelPrevalence, ModelStatus } from '../protocol';

/** What the services need from model versions and per-team model settings. */
export interface ModelsRepository {
  /** The prevalences set for these teams. */
  prevalencesOf(teamIds: readonly string[]): Promise<ModelPrevalence[]>;

  /**
   * Versions by model id, then creation time, then version (the same order on both dialects: ids
   * compared byte by byte), optionally only those of one model or with one of these statuses.
   */
  listVersions(filter?: {
    id?: string;
    statuses?: readonly ModelStatus[];
  }): Promise<ModelVersionRow[]>;
  getVersion(id: string, version: string): Promise<ModelVersionRow | undefined>;
  /**
   * Adds a version unless one with its id and version exists (even one another caller is adding
   * at this moment): false then, and nothing is written. Any other conflict (a second active
   * version) throws.
   */
  insertVersion(row: ModelVersionRow): Promise<boolean>;
  /**
   * Holds every version of the model until the transaction ends, so that two activations (or an
   * activation and an import) of one model run one after the other, even on two server instances.
   * Inside a transaction only.
   */
  lockModel(id: string): Promise<void>;
  /** Retires the model's active version, if any, then makes this one active since `at`. */
  setActive(id: string, version: string, at: Date): Promise<void>;
  retire(id: string, version: string): Promise<void>;

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
