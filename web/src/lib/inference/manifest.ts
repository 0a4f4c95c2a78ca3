// The model manifest contract (docs/architecture.md §6; the schemas live in the server's protocol,
// which also checks uploaded models against them), parsed once. Nothing else in the app knows
// anything about a particular model: everything comes from these objects.
import { Manifest } from 'sync-server/protocol';
import { z } from 'zod';

export {
  ImageInput,
  Manifest,
  TabularField,
  TabularInput,
  type Eligibility,
  type ImageManifest,
  type TabularManifest,
} from 'sync-server/protocol';

export const CatalogueEntry = z.object({
  id: z.string().min(1),
  version: z.string().min(1),
  name: z.string().min(1),
  modality: z.enum(['image', 'tabular']),
  task: z.string(),
  path: z.string().regex(/^[a-z0-9][a-z0-9-]*\/manifest\.json$/, 'must be "<id>/manifest.json"'),
  bytes: z.number().int().nonnegative(),
  /**
   * Where its files come from: the app's own build (`bundled`, precached, works on a brand-new
   * install) or the server's catalogue (`server`, downloaded in the background).
   */
  source: z.enum(['bundled', 'server']).default('bundled'),
});
export type CatalogueEntry = z.infer<typeof CatalogueEntry>;

/** models/index.json: a bare array, or `{ models: [...] }`. */
export const Catalogue = z.union([
  z.array(CatalogueEntry),
  z.object({ models: z.array(CatalogueEntry) }).transform((c) => c.models),
]);

export class ManifestError extends Error {
  override name = 'ManifestError';
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Parses a manifest, or throws a ManifestError that says what is wrong with it. */
export function parseManifest(json: unknown, expectedId?: string): Manifest {
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    throw new ManifestError(`The model description is invalid (${describe(parsed.error)}).`);
  }
  if (expectedId && parsed.data.id !== expectedId) {
    throw new ManifestError(
      `The model description is for "${parsed.data.id}", not "${expectedId}" as the catalogue says.`,
    );
  }
  return parsed.data;
}

export function parseCatalogue(json: unknown): CatalogueEntry[] {
  const parsed = Catalogue.safeParse(json);
  if (!parsed.success) {
    throw new ManifestError(`The model catalogue is invalid (${describe(parsed.error)}).`);
  }
  return parsed.data;
}

/** Where the app fetches models from: its own origin, so the service worker can precache them. */
export const MODELS_BASE = '/models/';
export const catalogueUrl = () => `${MODELS_BASE}index.json`;
export type ModelSource = CatalogueEntry['source'];
/** The server's catalogue (sync-server/src/protocol/models.ts). */
export const SERVER_CATALOGUE_URL = '/api/models';
const serverBase = (m: Pick<Manifest, 'id' | 'version'>) =>
  `${SERVER_CATALOGUE_URL}/${m.id}/${m.version}/`;
export const manifestUrl = (entry: Pick<CatalogueEntry, 'id' | 'version' | 'path' | 'source'>) =>
  entry.source === 'server' ? `${serverBase(entry)}manifest.json` : `${MODELS_BASE}${entry.path}`;
export const modelFileUrl = (
  m: Pick<Manifest, 'id' | 'version' | 'file'>,
  source: ModelSource = 'bundled',
) => (source === 'server' ? `${serverBase(m)}${m.file}` : `${MODELS_BASE}${m.id}/${m.file}`);
/** Identifies one version of one model: sessions and caches are keyed by it. */
export const modelKey = (m: Pick<Manifest, 'id' | 'version' | 'sha256'>) =>
  `${m.id}@${m.version}#${m.sha256.slice(0, 12)}`;

export function labelIndex(m: Manifest, label: string): number {
  return m.output.labels.indexOf(label);
}
