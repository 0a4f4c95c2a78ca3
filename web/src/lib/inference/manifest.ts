// The model manifest contract (DESIGN.md section 6), parsed once with zod. Nothing else in the app
// knows anything about a particular model: everything comes from these objects.
import { z } from 'zod';

const TensorName = z.string().min(1);

export const ImageInput = z.object({
  tensor: TensorName,
  layout: z.literal('NCHW'),
  height: z.number().int().positive().max(4096),
  width: z.number().int().positive().max(4096),
  channels: z.union([z.literal(1), z.literal(3)]),
});
export type ImageInput = z.infer<typeof ImageInput>;

export const TabularField = z
  .object({
    key: z.string().min(1),
    label: z.string().min(1),
    unit: z.string().default(''),
    min: z.number(),
    max: z.number(),
    required: z.boolean(),
  })
  .refine((f) => f.min <= f.max, { message: 'min must not be above max' });
export type TabularField = z.infer<typeof TabularField>;

export const TabularInput = z.object({
  tensor: TensorName,
  fields: z
    .array(TabularField)
    .min(1)
    .refine((fields) => new Set(fields.map((f) => f.key)).size === fields.length, {
      message: 'field keys must be unique',
    }),
});
export type TabularInput = z.infer<typeof TabularInput>;

const Output = z
  .object({
    tensor: TensorName,
    labels: z.array(z.string().min(1)).min(2),
    positive: z.string().min(1),
    threshold: z.number().min(0).max(1),
  })
  .refine((o) => o.labels.includes(o.positive), {
    message: 'positive must be one of the labels',
    path: ['positive'],
  });

const Metrics = z
  .object({
    split: z.string(),
    n: z.number().int().nonnegative(),
    auc: z.number().optional(),
    accuracy: z.number().optional(),
    sensitivity: z.number().optional(),
    specificity: z.number().optional(),
  })
  .catchall(z.unknown());

const common = {
  schemaVersion: z.literal(1),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
  version: z.string().min(1),
  name: z.string().min(1),
  task: z.literal('binary-classification'),
  file: z
    .string()
    .regex(/^[\w.-]+\.onnx$/, 'must be a file name ending in .onnx, inside the model folder'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  bytes: z.number().int().positive(),
  output: Output,
  metrics: Metrics,
  dataset: z.object({ name: z.string(), license: z.string(), citation: z.string() }).partial(),
  intendedUse: z.string().min(1),
  limitations: z.string().min(1),
  training: z.object({ config: z.string(), seed: z.number() }).partial().optional(),
};

export const Manifest = z.discriminatedUnion('modality', [
  z.object({ ...common, modality: z.literal('image'), input: z.object({ image: ImageInput }) }),
  z.object({
    ...common,
    modality: z.literal('tabular'),
    input: z.object({ tabular: TabularInput }),
  }),
]);
export type Manifest = z.infer<typeof Manifest>;
export type ImageManifest = Extract<Manifest, { modality: 'image' }>;
export type TabularManifest = Extract<Manifest, { modality: 'tabular' }>;

export const CatalogueEntry = z.object({
  id: z.string().min(1),
  version: z.string().min(1),
  name: z.string().min(1),
  modality: z.enum(['image', 'tabular']),
  task: z.string(),
  path: z.string().regex(/^[a-z0-9][a-z0-9-]*\/manifest\.json$/, 'must be "<id>/manifest.json"'),
  bytes: z.number().int().nonnegative(),
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
export const manifestUrl = (entry: Pick<CatalogueEntry, 'path'>) => `${MODELS_BASE}${entry.path}`;
export const modelFileUrl = (m: Pick<Manifest, 'id' | 'file'>) => `${MODELS_BASE}${m.id}/${m.file}`;
/** Identifies one version of one model: sessions and caches are keyed by it. */
export const modelKey = (m: Pick<Manifest, 'id' | 'version' | 'sha256'>) =>
  `${m.id}@${m.version}#${m.sha256.slice(0, 12)}`;

export function labelIndex(m: Manifest, label: string): number {
  return m.output.labels.indexOf(label);
}
