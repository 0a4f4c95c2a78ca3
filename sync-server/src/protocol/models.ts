import { z } from 'zod';
import { Timestamp } from './common';

/**
 * The model catalogue the server publishes (docs/architecture.md §6). Tablets read
 * `GET /api/models` at sync, download new active versions in the background and keep retired ones
 * while records made with them exist. Administrators upload, activate and retire versions under
 * `/api/admin/models`.
 *
 * Routes:
 * - `GET /api/models` (signed in): `ModelCatalogueResponse`, the active and retired versions.
 * - `GET /api/models/:id/:version/manifest.json` (signed in): the version's manifest.
 * - `GET /api/models/:id/:version/:file` (signed in): the ONNX file or a file the manifest names
 *   (e.g. the input check); supports `Range` so an interrupted download resumes; `ETag` is its sha256.
 * - `GET /api/admin/models` (admin): every version, staged ones too.
 * - `POST /api/admin/models` (admin, multipart: `manifest` JSON, `model` ONNX file, optional `check`
 *   JSON file, optional `releaseNotes`): checks the manifest against the contract and the graph's
 *   inputs and outputs, then stores the version as `staged`.
 * - `POST /api/admin/models/:id/:version/activate` (admin): makes it the active version of its model
 *   (the previous active one becomes retired): also how a version is rolled back.
 * - `POST /api/admin/models/:id/:version/retire` (admin): retires it (a model may have no active version).
 */

export const MODEL_STATUSES = ['staged', 'active', 'retired'] as const;
export const ModelStatus = z.enum(MODEL_STATUSES);
export type ModelStatus = z.infer<typeof ModelStatus>;

/** Largest ONNX file an administrator may upload. */
export const MAX_MODEL_BYTES = 64 * 1024 * 1024;
/** Largest manifest or side file (JSON). */
export const MAX_MODEL_JSON_BYTES = 1024 * 1024;

export const ModelId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lower-case letters, digits and dashes');
/** Semantic version, e.g. 1.2.0. */
export const ModelVersion = z
  .string()
  .regex(/^\d{1,6}\.\d{1,6}\.\d{1,6}$/, 'must be a version such as 1.2.0');

export const CatalogueItem = z.object({
  id: z.string(),
  version: z.string(),
  name: z.string(),
  modality: z.enum(['image', 'tabular']),
  task: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  status: ModelStatus,
  releaseNotes: z.string(),
  /** When it last became active (null when it never was). */
  activatedAt: Timestamp.nullable(),
  createdAt: Timestamp,
});
export type CatalogueItem = z.infer<typeof CatalogueItem>;

export const ModelCatalogueResponse = z.object({ models: z.array(CatalogueItem) });
export type ModelCatalogueResponse = z.infer<typeof ModelCatalogueResponse>;

export const AdminModelItem = CatalogueItem.extend({
  source: z.enum(['bundled', 'uploaded']),
  createdBy: z.string().nullable(),
});
export type AdminModelItem = z.infer<typeof AdminModelItem>;

export const AdminModelListResponse = z.object({ models: z.array(AdminModelItem) });
export type AdminModelListResponse = z.infer<typeof AdminModelListResponse>;

export const ModelParams = z.object({ id: ModelId, version: ModelVersion });

/** 1.10.0 > 1.9.3: compares dotted version numbers (server and app order versions alike). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export const ReleaseNotes = z.string().max(4000, 'must be at most 4,000 characters');
